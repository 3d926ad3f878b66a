"""The A/B image layout (issue 29 item 1): one script, image/ab/layout.sh, makes the
partitioned image for both builds. Checked here on tiny fake trees, on the host,
without root: the pi-gen path (image/ab/from-pigen.sh on a two-partition image as
pi-gen exports it), the Debian arm64 path (image/arm64/build.sh's make_image), the
root file system's RAUC setup (image/ab/root-setup.sh) and the boot-slot mount
generator; the partitions are read back with sfdisk, mtools and debugfs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AB = REPO / "image/ab"
RAUC = REPO / "image/rauc"
TOOLS = ["sfdisk", "mkfs.vfat", "mcopy", "mtype", "mkfs.ext4", "debugfs", "bmaptool"]
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                reason="needs " + ", ".join(TOOLS))

MiB = 1024 * 1024
PIGEN_CMDLINE = ("console=serial0,115200 console=tty1 root=PARTUUID=1a2b3c4d-02 rootfstype=ext4 "
                 "fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n")


@pytest.fixture(scope="module")
def devkey(tmp_path_factory) -> Path:
    """One development key for the module (RSA 3072 takes a while): devkey.sh reuses it."""
    out = tmp_path_factory.mktemp("devkey")
    subprocess.run([str(RAUC / "devkey.sh"), str(out)], check=True, capture_output=True)
    return out


def ab_conf() -> dict[str, str]:
    out = subprocess.run(["bash", "-c", f". {AB}/ab.conf && set -o posix && set"],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if line.startswith("AB_"))


def sh(*args, env=None, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kw)


def fat_with(path: Path, mb: int, files: dict[str, str], label="BOOTFS"):
    subprocess.run(["truncate", "-s", f"{mb}M", path], check=True)
    subprocess.run(["mkfs.vfat", "-n", label, path], check=True, capture_output=True)
    for name, text in files.items():
        src = path.parent / f"src-{name}"
        src.write_text(text)
        subprocess.run(["mcopy", "-i", path, src, f"::{name}"], check=True)


def fake_root(root: Path):
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text("ID=fake\n")
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/kiosk-marker").write_text("slot A content\n")


def partitions(img: Path) -> tuple[str, list[dict]]:
    table = json.loads(sh("sfdisk", "-J", img, check=True).stdout)["partitiontable"]
    return table["id"], table["partitions"]


def part_bytes(img: Path, part: dict, out: Path) -> Path:
    sh("dd", f"if={img}", f"of={out}", "bs=1M", "iflag=skip_bytes,count_bytes", f"skip={part['start'] * 512}",
       f"count={part['size'] * 512}", "conv=sparse", "status=none", check=True)
    return out


def fat_file(img: Path, part: dict, name: str) -> str | None:
    r = sh("mtype", "-i", f"{img}@@{part['start'] * 512}", f"::{name}")
    return r.stdout if r.returncode == 0 else None


def ext4_info(fs: Path) -> tuple[str, str]:
    """(volume name, content of /usr/bin/kiosk-marker or '')"""
    stats = sh("debugfs", "-R", "stats", fs, check=True).stdout
    label = next(line.split(":", 1)[1].strip() for line in stats.splitlines()
                 if line.startswith("Filesystem volume name"))
    cat = sh("debugfs", "-R", "cat /usr/bin/kiosk-marker", fs)
    return label, cat.stdout


def check_ab_image(deploy: Path, name: str, tmp: Path, boot_file: str):
    """The layout system.conf and tryboot-backend.conf describe, in the image and its side files."""
    conf = ab_conf()
    disk_id = conf["AB_DISK_ID"].lower()
    img = deploy / f"{name}.img"
    assert img.is_file()
    label_id, parts = partitions(img)
    assert label_id.lower() == disk_id
    assert [p["node"][len(str(img)):] for p in parts] == [str(n) for n in range(1, 8)]
    assert [p["type"] for p in parts] == ["c", "c", "c", "5", "83", "83", "83"]
    ext = parts[3]
    for logical in parts[4:]:  # p5-p7 inside the extended partition
        assert ext["start"] < logical["start"] and logical["start"] + logical["size"] <= ext["start"] + ext["size"]
    for a, b in zip(parts[:3] + parts[4:], parts[1:3] + parts[4:]):
        assert a["start"] + a["size"] <= b["start"]  # no overlaps
    assert all(p["start"] % 8192 == 0 for p in parts)  # 4 MiB aligned like Raspberry Pi OS
    assert img.stat().st_size >= (parts[-1]["start"] + parts[-1]["size"]) * 512

    # p1: the selector, autoboot.txt as the tryboot backend writes it, nothing armed
    autoboot = fat_file(img, parts[0], "autoboot.txt")
    assert autoboot == "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n"
    assert fat_file(img, parts[0], "start.elf") is None
    # p2: boot A, the build's boot files, root= slot A's root by PARTUUID, rauc.slot=A
    cmdline = fat_file(img, parts[1], "cmdline.txt")
    assert cmdline is not None and cmdline.count("\n") == 1
    tokens = cmdline.split()
    assert f"root=PARTUUID={disk_id[2:]}-05" in tokens and "rauc.slot=A" in tokens
    assert not any(t.startswith("root=") and t != f"root=PARTUUID={disk_id[2:]}-05" for t in tokens)
    assert fat_file(img, parts[1], boot_file) is not None
    for slot, n in (("A", "05"), ("B", "06")):
        text = fat_file(img, parts[1], f"cmdline-{slot}.txt")
        assert text is not None and f"root=PARTUUID={disk_id[2:]}-{n}" in text.split()
        assert f"rauc.slot={slot}" in text.split()
        assert text.split()[:1] == tokens[:1] or tokens[0].startswith("root=")
    # p3: boot B formatted, empty (RAUC installs into it)
    assert fat_file(img, parts[2], "cmdline.txt") is None
    assert sh("mdir", "-i", f"{img}@@{parts[2]['start'] * 512}", "::").returncode == 0
    # p5: root A holds the build's root; p6: root B an empty ext4; p7: the data partition
    assert ext4_info(part_bytes(img, parts[4], tmp / "p5"))[1] == "slot A content\n"
    assert ext4_info(part_bytes(img, parts[5], tmp / "p6"))[1] == ""
    assert ext4_info(part_bytes(img, parts[6], tmp / "p7"))[0] == conf["AB_DATA_LABEL"]
    listing = sh("debugfs", "-R", "ls -l /", tmp / "p7", check=True).stdout.split()
    assert {"state", "config", "rauc"} <= set(listing)  # fstab's binds work at the first boot

    # the slot images for the bundle, next to the disk image
    rootfs, bootfs = deploy / "rootfs.ext4", deploy / "boot.vfat"
    assert ext4_info(rootfs)[1] == "slot A content\n"
    assert rootfs.stat().st_size <= parts[4]["size"] * 512 and rootfs.stat().st_size <= parts[5]["size"] * 512
    assert bootfs.stat().st_size <= parts[2]["size"] * 512
    assert sh("mtype", "-i", bootfs, "::cmdline-B.txt").returncode == 0
    assert (deploy / f"{name}.img.bmap").is_file()
    digest, fname = (deploy / f"{name}.img.sha256").read_text().split()
    assert fname == f"{name}.img" and digest == sh("sha256sum", img, check=True).stdout.split()[0]

    # The backend reads this autoboot.txt as RAUC would ask it: A boots, B is not good.
    (tmp / "autoboot.txt").write_text(autoboot)
    env = {"TRYBOOT_BACKEND_CONF": "/nonexistent", "AUTOBOOT": str(tmp / "autoboot.txt"),
           "STATE_FILE": str(tmp / "tryboot.state"), "DT_DIR": str(tmp / "no-dt")}
    assert sh(RAUC / "tryboot-backend", "get-primary", env=env).stdout.strip() == "A"
    assert sh(RAUC / "tryboot-backend", "get-state", "B", env=env).stdout.strip() == "bad"
    return parts


def test_ab_scripts_pass_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed")
    scripts = [AB / "layout.sh", AB / "from-pigen.sh", AB / "root-setup.sh", AB / "keyring.sh",
               AB / "kiosk-boot-slot-generator", AB / "slot-hook", AB / "stage-files.sh", RAUC / "devkey.sh",
               REPO / "image/arm64/build.sh", REPO / "image/arm64/test.sh", REPO / "image/build.sh",
               REPO / "image/stage-kiosk/00-kiosk-agent/01-run.sh"]
    r = sh("shellcheck", "-x", *scripts, cwd=REPO / "image")  # as tests/test_image.py runs it
    assert r.returncode == 0, r.stdout + r.stderr


def test_pigen_export_becomes_the_ab_layout(tmp_path):
    """image/build.sh hands pi-gen's two-partition image to from-pigen.sh, which calls layout.sh."""
    boot, root, img = tmp_path / "boot.fat", tmp_path / "root", tmp_path / "pigen.img"
    fat_with(boot, 32, {"cmdline.txt": PIGEN_CMDLINE, "config.txt": "arm_64bit=1\n", "kernel8.img": "k"})
    fake_root(root)
    sh("mkfs.ext4", "-q", "-L", "rootfs", "-d", root, tmp_path / "root.ext4", "16M", check=True)
    # pi-gen's export: MBR, FAT then ext4
    boot_start, root_start = 8192, 8192 + 32 * 2048
    subprocess.run(["truncate", "-s", str((root_start + 16 * 2048) * 512), img], check=True)
    sh("sfdisk", "--quiet", img, input=f"label: dos\nlabel-id: 0x1a2b3c4d\nstart={boot_start}, size={32 * 2048}, "
       f"type=c\nstart={root_start}, size={16 * 2048}, type=83\n", check=True)
    for src, start in ((boot, boot_start), (tmp_path / "root.ext4", root_start)):
        sh("dd", f"if={src}", f"of={img}", "bs=512", f"seek={start}", "conv=notrunc", "status=none", check=True)
    deploy = tmp_path / "deploy"
    r = sh(AB / "from-pigen.sh", img, deploy, "kiosk-agent-ab",
           env={"AB_ROOT_SLOT_MB": "32", "AB_DATA_MB": "16", "AB_SELECT_MB": "8"})
    assert r.returncode == 0, r.stderr
    parts = check_ab_image(deploy, "kiosk-agent-ab", tmp_path, "kernel8.img")
    cmdline = fat_file(deploy / "kiosk-agent-ab.img", parts[1], "cmdline.txt")
    # pi-gen's other settings kept, its root and its resize-on-first-boot init dropped (the
    # data partition is made by the layout; a resized root would not fit the other slot)
    assert "console=tty1" in cmdline and "rootwait" in cmdline and "init=" not in cmdline


def test_arm64_build_makes_the_same_layout(tmp_path):
    """image/arm64/build.sh's make_image: the root tree with /boot/firmware, through layout.sh."""
    work = tmp_path / "work"
    root = work / "rootfs"
    fake_root(root)
    fw = root / "boot/firmware"
    fw.mkdir(parents=True)
    (fw / "cmdline.txt").write_text("console=tty0 root=LABEL=RASPIROOT rw fsck.repair=yes net.ifnames=0 rootwait\n")
    (fw / "vmlinuz-6.12.0-arm64").write_text("kernel")
    r = sh("bash", "-c", f"set -e; . {REPO}/image/arm64/build.sh; BOOT_MB=64; make_image",
           env={"ARM64_WORK": str(work), "IMG_NAME": "debian-ab", "ROOT_ROOM_MB": "16", "AB_ROOT_SLOT_MB": "32",
                "AB_DATA_MB": "16", "AB_SELECT_MB": "8"})
    assert r.returncode == 0, r.stderr
    check_ab_image(work / "deploy", "debian-ab", tmp_path, "vmlinuz-6.12.0-arm64")


def test_system_conf_names_the_partitions_the_layout_makes():
    conf = ab_conf()
    uuid = conf["AB_DISK_ID"].lower()[2:]
    text = (RAUC / "system.conf").read_text()
    devices = {}
    section = None
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif line.startswith("device="):
            devices[section] = line.split("=", 1)[1]
    assert devices == {f"slot.{c}.{i}": f"/dev/disk/by-partuuid/{uuid}-{n:02d}"
                       for c, i, n in (("boot", 0, 2), ("boot", 1, 3), ("rootfs", 0, 5), ("rootfs", 1, 6))}
    backend = (RAUC / "tryboot-backend.conf").read_text()
    assert 'SLOTS="A=2 B=3"' in backend


def test_root_setup_installs_rauc_with_a_loud_development_keyring(tmp_path, devkey):
    root = tmp_path / "root"
    (root / "etc/default").mkdir(parents=True)
    (root / "etc/default/kiosk-firstboot").write_text("DATA_LABEL=KIOSKDATA\n")
    (root / "etc/fstab").write_text("proc /proc proc defaults 0 0\nBOOTDEV /boot/firmware vfat defaults 0 2\n"
                                    "ROOTDEV / ext4 defaults,noatime 0 1\n")
    keys, dev = tmp_path / "keys", devkey
    r = sh(AB / "keyring.sh", keys, env={"KIOSK_RAUC_DEVKEY_DIR": str(dev)})
    assert r.returncode == 0, r.stderr
    assert "DEVELOPMENT" in r.stderr
    r = sh(AB / "root-setup.sh", root, keys)
    assert r.returncode == 0, r.stderr
    assert "DEVELOPMENT" in r.stderr
    assert (root / "etc/rauc/system.conf").read_text() == (RAUC / "system.conf").read_text()
    assert (root / "etc/rauc/tryboot-backend.conf").read_text() == (RAUC / "tryboot-backend.conf").read_text()
    assert os.access(root / "usr/lib/kiosk/tryboot-backend", os.X_OK)
    assert (root / "etc/rauc/keyring.pem").read_bytes() == (dev / "DEVELOPMENT-ONLY-keyring.pem").read_bytes()
    info = (root / "usr/lib/kiosk/BUILD-INFO").read_text()
    assert "rauc_keyring=development" in info and "DEVELOPMENT-ONLY" in info
    fstab = (root / "etc/fstab").read_text()
    assert "BOOTDEV" not in fstab and "ROOTDEV" not in fstab and "proc /proc" in fstab
    uuid = ab_conf()["AB_DISK_ID"].lower()[2:]
    assert f"PARTUUID={uuid}-01 /mnt/boot-select vfat" in fstab
    assert "\nLABEL=KIOSKDATA /mnt/kiosk-data ext4 " in fstab and "/dev/root / ext4" in fstab
    dropin = (root / "etc/systemd/system/rauc.service.d/kiosk-data.conf").read_text()
    assert "RequiresMountsFor=/mnt/kiosk-data" in dropin
    assert os.access(root / "usr/lib/systemd/system-generators/kiosk-boot-slot", os.X_OK)
    assert "DATA_GROW=yes" in (root / "etc/default/kiosk-firstboot").read_text()
    # run twice (a rebuilt stage): nothing doubled
    sh(AB / "root-setup.sh", root, keys, check=True)
    assert (root / "etc/fstab").read_text() == fstab

    # the chain's own keyring: no development wording
    chain = tmp_path / "chain.pem"
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", tmp_path / "chain.key", "-out", chain, "-days", "2", "-subj", "/O=Hotel Chain/CN=Chain CA",
       check=True)
    keys2 = tmp_path / "keys2"
    r = sh(AB / "keyring.sh", keys2, env={"KIOSK_RAUC_KEYRING": str(chain)})
    assert r.returncode == 0 and "DEVELOPMENT" not in r.stderr
    sh(AB / "root-setup.sh", root, keys2, check=True)
    assert "rauc_keyring=chain" in (root / "usr/lib/kiosk/BUILD-INFO").read_text()
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    r = sh(AB / "keyring.sh", tmp_path / "keys3", env={"KIOSK_RAUC_KEYRING": str(bad)})
    assert r.returncode != 0 and "KIOSK_RAUC_KEYRING" in r.stderr


@pytest.mark.parametrize("cmdline, what", [
    ("console=tty0 root=PARTUUID=x-05 rauc.slot=A rootwait", "02"),
    ("rauc.slot=B root=PARTUUID=x-06", "03"),
    ("root=/dev/vda2 rootwait", None),  # not an A/B boot: /boot/firmware left to fstab
])
def test_boot_slot_generator_mounts_the_booted_slots_boot_partition(tmp_path, cmdline, what):
    (tmp_path / "cmdline").write_text(cmdline + "\n")
    out = tmp_path / "gen"
    out.mkdir()
    # systemd-fstab-generator, run at the same time, may have made the .wants folder already
    (out / "local-fs.target.wants").mkdir()
    r = sh(AB / "kiosk-boot-slot-generator", out, out, out, env={"PROC_CMDLINE": str(tmp_path / "cmdline")})
    assert r.returncode == 0, r.stderr
    unit = out / "boot-firmware.mount"
    if what is None:
        assert not unit.exists()
        return
    uuid = ab_conf()["AB_DISK_ID"].lower()[2:]
    text = unit.read_text()
    assert f"What=/dev/disk/by-partuuid/{uuid}-{what}\n" in text and "Where=/boot/firmware\n" in text
    assert (out / "local-fs.target.wants/boot-firmware.mount").is_symlink()


@pytest.mark.parametrize("device, slot", [("/dev/disk/by-partuuid/6b696f73-03", "B"), ("/dev/mmcblk0p2", "A")])
def test_boot_slot_hook_points_an_installed_boot_slot_at_its_own_root(tmp_path, device, slot):
    """RAUC post-install hook for the boot slots: a bundle's boot.vfat carries cmdline-A.txt
    and cmdline-B.txt; the slot it landed in gets its own as cmdline.txt, and the running
    system's read-only root setting (overlayroot=...) carries over."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    uuid = ab_conf()["AB_DISK_ID"].lower()[2:]
    for s, n in (("A", "05"), ("B", "06")):
        (mnt / f"cmdline-{s}.txt").write_text(f"console=tty0 root=PARTUUID={uuid}-{n} rauc.slot={s} rootwait\n")
    (mnt / "cmdline.txt").write_text((mnt / "cmdline-A.txt").read_text())
    (tmp_path / "cmdline").write_text(f"root=PARTUUID={uuid}-05 rauc.slot=A overlayroot=tmpfs:recurse=0\n")
    env = {"RAUC_SLOT_MOUNT_POINT": str(mnt), "RAUC_SLOT_DEVICE": device, "RAUC_SLOT_CLASS": "boot",
           "PROC_CMDLINE": str(tmp_path / "cmdline")}
    r = sh(AB / "slot-hook", "slot-post-install", env=env)
    assert r.returncode == 0, r.stderr
    n = "06" if slot == "B" else "05"
    assert (mnt / "cmdline.txt").read_text() == \
        f"console=tty0 root=PARTUUID={uuid}-{n} rauc.slot={slot} rootwait overlayroot=tmpfs:recurse=0\n"
    r = sh(AB / "slot-hook", "slot-post-install", env={**env, "RAUC_SLOT_DEVICE": "/dev/sda9"})
    assert r.returncode != 0


def test_pigen_stage_runs_the_ab_root_setup(tmp_path, devkey):
    """Dry run of pi-gen's sub-stage as image/build.sh stages it: image/ab/stage-files.sh
    fills files/, 01-run.sh (on_chroot stubbed: install.sh is not what is tested here)
    sets the root up with files/ab/root-setup.sh; no private key reaches the stage."""
    stage = tmp_path / "stage-kiosk"
    shutil.copytree(REPO / "image/stage-kiosk", stage)
    sub = stage / "00-kiosk-agent"
    dev = devkey
    r = sh(AB / "stage-files.sh", sub / "files", env={"KIOSK_RAUC_DEVKEY_DIR": str(dev)})
    assert r.returncode == 0, r.stderr
    assert "DEVELOPMENT" in r.stderr
    (sub / "files/install.sh").write_text("exit 0\n")
    (sub / "files/wheels").mkdir()
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc/default").mkdir(parents=True)
    (rootfs / "etc/default/kiosk-firstboot").write_text("DATA_LABEL=KIOSKDATA\n")
    (rootfs / "etc/fstab").write_text("proc /proc proc defaults 0 0\nBOOTDEV /boot/firmware vfat defaults 0 2\n"
                                      "ROOTDEV / ext4 defaults,noatime 0 1\n")
    r = sh("bash", "-c", "on_chroot() { cat >/dev/null; }; export -f on_chroot; bash -e ./01-run.sh",
           cwd=sub, env={"ROOTFS_DIR": str(rootfs)})
    assert r.returncode == 0, r.stderr
    assert (rootfs / "etc/rauc/system.conf").read_text() == (RAUC / "system.conf").read_text()
    assert (rootfs / "etc/rauc/keyring.pem").read_bytes() == (dev / "DEVELOPMENT-ONLY-keyring.pem").read_bytes()
    assert "rauc_keyring=development" in (rootfs / "usr/lib/kiosk/BUILD-INFO").read_text()
    assert "BOOTDEV" not in (rootfs / "etc/fstab").read_text()
    assert not list((sub / "files").rglob("*.key.pem")) and not list(rootfs.rglob("*.key.pem"))
    assert "rauc" in (sub / "00-packages").read_text().split()


def test_first_boot_grows_the_data_partition_to_the_end_of_the_card(tmp_path):
    """kiosk-firstboot (DATA_GROW=yes) on a card larger than the image: the extended
    partition and p7 reach its end, then resize2fs (online); a second boot changes no
    partition; a data partition that is not last is left alone."""
    boot, root = tmp_path / "boot.vfat", tmp_path / "root"
    fat_with(boot, 64, {"cmdline.txt": "console=tty0 root=/dev/x rootwait\n"})
    fake_root(root)
    sh("mkfs.ext4", "-q", "-d", root, tmp_path / "root.ext4", "8M", check=True)
    sh(AB / "layout.sh", boot, tmp_path / "root.ext4", tmp_path / "deploy", "card",
       env={"AB_ROOT_SLOT_MB": "16", "AB_DATA_MB": "16", "AB_SELECT_MB": "8"}, check=True)
    card = tmp_path / "deploy/card.img"
    before = partitions(card)[1]
    os.truncate(card, card.stat().st_size + 100 * MiB)
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for tool in ("partx", "resize2fs"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\n')
        (bin_dir / tool).chmod(0o755)
    src = (REPO / "image/stage-kiosk/00-kiosk-agent/files/kiosk-firstboot").read_text()
    script = src[:src.index("main() {")].replace("export PATH=", f"export PATH={bin_dir}:") + \
        'grow_partition_on "$1" "$2" "$3"\n'

    def grow(num):
        return subprocess.run(["bash", "-c", script, "firstboot", str(card), str(num), "/dev/vda7"],
                              capture_output=True, text=True, timeout=60)

    done = grow(7)
    assert done.returncode == 0, done.stdout + done.stderr
    after = partitions(card)[1]
    end = card.stat().st_size // 512
    assert after[3]["start"] + after[3]["size"] == end and after[6]["start"] + after[6]["size"] == end
    assert after[6]["start"] == before[6]["start"] and after[:3] + after[4:6] == before[:3] + before[4:6]
    assert calls.read_text().splitlines() == [f"partx --update --nr 7 {card}", "resize2fs /dev/vda7"]
    assert grow(7).returncode == 0 and partitions(card)[1] == after  # nothing left to grow
    assert calls.read_text().splitlines()[-1] == "resize2fs /dev/vda7"
    calls.unlink()
    assert grow(5).returncode == 0 and partitions(card)[1] == after and not calls.exists()  # p5 is not last


def test_slot_hook_carries_the_units_identity_into_a_new_root_slot(tmp_path):
    """A new root slot boots read-only at once (the boot hook keeps overlayroot=): without
    this its machine-id would be new at every boot and its hostname the image's."""
    running, new = tmp_path / "running", tmp_path / "new"
    (running / "etc/ssh").mkdir(parents=True)
    (new / "etc/ssh").mkdir(parents=True)
    (running / "etc/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (running / "etc/hostname").write_text("kiosk-40d1b5\n")
    (running / "etc/ssh/ssh_host_ed25519_key").write_text("KEY\n")
    (new / "etc/machine-id").write_text("")
    (new / "etc/hostname").write_text("kiosk\n")
    env = {"RAUC_SLOT_MOUNT_POINT": str(new), "RAUC_SLOT_CLASS": "rootfs", "SRC_ROOT": str(running)}
    r = sh(AB / "slot-hook", "slot-post-install", env=env)
    assert r.returncode == 0, r.stderr
    assert (new / "etc/machine-id").read_text() == "0123456789abcdef0123456789abcdef\n"
    assert (new / "etc/hostname").read_text() == "kiosk-40d1b5\n"
    assert (new / "etc/ssh/ssh_host_ed25519_key").read_text() == "KEY\n"
    assert not (new / "etc/hosts").exists()  # nothing made up that the running root lacks
