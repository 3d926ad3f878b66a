#!/bin/bash
# install.sh: the SD-image stage's steps, for a running Raspberry Pi OS (or,
# with --image, for a root file system being built: pi-gen's chroot, the
# image test's debootstrap chroot).
#
#   sudo image/install.sh [--image] [--wheel FILE | --wheelhouse DIR [--lock FILE]] [--extras LIST] [--no-apt]
#
# Without --wheel/--wheelhouse the agent is built from this checkout. With
# --lock (requirements/runtime.lock) every dependency comes from the wheelhouse
# and must match the lock's hashes; the agent's own wheel is added without deps.
# Installs the agent into its own venv /opt/kiosk-agent, creates the `kiosk`
# user (dialout, i2c, gpio, lp), installs the systemd units, the first-boot script,
# the journald and watchdog drop-ins, and enables I2C, the UART and the
# hardware watchdog in config.txt.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$HERE/kiosk-agent.service" ]; then
	FILES=$HERE # a bundle assembled by image/build.sh
else
	FILES=$HERE/stage-kiosk/00-kiosk-agent/files
fi
VENV=/opt/kiosk-agent
AGENT_USER=kiosk
IMAGE=no
WHEEL=
WHEELHOUSE=
LOCK=
EXTRAS=
APT=${KIOSK_NO_APT:+no}
APT=${APT:-yes}

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--image) IMAGE=yes ;;
	--wheel) WHEEL=$2; shift ;;
	--wheelhouse) WHEELHOUSE=$2; shift ;;
	--lock) LOCK=$2; shift ;;
	--extras) EXTRAS=$2; shift ;;
	--no-apt) APT=no ;;
	-h | --help) usage ;;
	*) echo "install.sh: unknown option $1" >&2; usage ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }

step() { echo "==> $*"; }

install_packages() {
	local pkgs=(python3 python3-venv python3-pip e2fsprogs fdisk util-linux i2c-tools ca-certificates)
	local optional=(raspi-config python3-lgpio initramfs-tools) p
	[ "$APT" = yes ] || return 0
	step "packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	# Raspberry Pi OS extras: present there, absent from plain Debian.
	for p in "${optional[@]}"; do
		if apt-cache show "$p" >/dev/null 2>&1; then pkgs+=("$p"); fi
	done
	# raspi-config's read-only root uses overlayroot; have it now, not from the network at first boot
	if [[ " ${pkgs[*]} " == *" raspi-config "* ]]; then pkgs+=(overlayroot); fi
	apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
}

create_user() {
	local g
	step "user $AGENT_USER (dialout, i2c, gpio, lp)"
	for g in dialout i2c gpio lp; do groupadd -f -r "$g"; done
	if ! id "$AGENT_USER" >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/lib/kiosk-agent --no-create-home \
			--shell /usr/sbin/nologin --comment "kiosk agent" "$AGENT_USER"
	fi
	usermod -a -G dialout,i2c,gpio,lp "$AGENT_USER"
}

install_agent() {
	local spec target
	step "agent venv $VENV"
	# System site packages: Raspberry Pi OS's python3-lgpio serves gpiozero on every Pi model.
	[ -x "$VENV/bin/python" ] || python3 -m venv --system-site-packages "$VENV"
	local pip=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade)
	spec=${EXTRAS:+[$EXTRAS]}
	if [ -n "$LOCK" ]; then
		if [ -z "$WHEELHOUSE" ] || [ -n "$EXTRAS" ]; then
			echo "install.sh: --lock needs --wheelhouse and no --extras" >&2
			exit 2
		fi
		# An sdist in the lock (lgpio has no aarch64 wheel for Python 3.13) builds against
		# the system's setuptools: an isolated build would fetch build tools no hash covers.
		"${pip[@]}" --no-index --find-links "$WHEELHOUSE" --require-hashes --no-build-isolation -r "$LOCK"
		"${pip[@]}" --no-index --find-links "$WHEELHOUSE" --no-deps kiosk-agent
	elif [ -n "$WHEELHOUSE" ]; then
		"${pip[@]}" --no-index --find-links "$WHEELHOUSE" "kiosk-agent$spec"
	elif [ -n "$WHEEL" ]; then
		"${pip[@]}" "$WHEEL$spec"
	else
		target=$(cd "$HERE/.." && pwd)
		"${pip[@]}" "$target$spec"
	fi
	ln -sf "$VENV/bin/kiosk-agent" /usr/local/bin/kiosk-agent
	"$VENV/bin/kiosk-agent" --version
}

install_files() {
	step "systemd units, first-boot script, journald and watchdog drop-ins"
	install -m 0644 "$FILES/kiosk-agent.service" "$FILES/kiosk-firstboot.service" /etc/systemd/system/
	install -m 0755 "$FILES/kiosk-firstboot" /usr/local/sbin/kiosk-firstboot
	# The kiosk screen: its own unprivileged user; the unit's ExecCondition keeps it
	# off unless [kiosk] enabled = true and a display is connected.
	install -m 0644 "$FILES/kiosk-screen.service" /etc/systemd/system/
	install -m 0755 "$FILES/kiosk-screen" /usr/local/sbin/kiosk-screen
	id kiosk-screen >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/kiosk-screen \
		--no-create-home --shell /usr/sbin/nologin --comment "kiosk screen" kiosk-screen
	for g in video render input; do groupadd -f -r "$g"; done
	usermod -a -G video,render,input kiosk-screen
	# keep a technician's local settings on reinstall
	[ -f /etc/default/kiosk-firstboot ] || install -m 0644 "$FILES/kiosk-firstboot.default" /etc/default/kiosk-firstboot
	install -D -m 0644 "$FILES/journald-kiosk.conf" /etc/systemd/journald.conf.d/50-kiosk.conf
	install -D -m 0644 "$FILES/system-watchdog.conf" /etc/systemd/system.conf.d/80-kiosk-watchdog.conf
	install -D -m 0644 "$FILES/modules-kiosk.conf" /etc/modules-load.d/kiosk.conf
	install -d -m 0750 -o root -g "$AGENT_USER" /etc/kiosk-agent
	install -d -m 0750 -o "$AGENT_USER" -g "$AGENT_USER" /var/lib/kiosk-agent
	install -d -m 0755 /mnt/kiosk-data
	systemctl enable kiosk-firstboot.service kiosk-agent.service kiosk-screen.service
	# Fleet metrics (issue 29): node_exporter's textfile folder, writable by the agent's group.
	install -m 0644 "$FILES/kiosk-metrics.service" /etc/systemd/system/
	install -d -m 0775 -g "$AGENT_USER" /var/lib/prometheus/node-exporter
	systemctl enable kiosk-metrics.service
	# The update's health gate (issue 29): commits or rolls back a trial boot; idle without RAUC.
	install -m 0644 "$FILES/kiosk-update-gate.service" /etc/systemd/system/
	systemctl enable kiosk-update-gate.service
	# A serial login on the UART would answer the printer.
	systemctl mask serial-getty@ttyS0.service serial-getty@ttyAMA0.service >/dev/null 2>&1 || true
}

boot_dir() {
	if [ -f /boot/firmware/config.txt ] || [ -f /boot/firmware/cmdline.txt ]; then
		echo /boot/firmware
	elif [ -f /boot/config.txt ] && ! grep -q "DO NOT EDIT" /boot/config.txt; then
		echo /boot
	fi
}

# Appends to config.txt $1, under [all], each setting of $2... whose key it lacks.
config_lines() {
	local file=$1 line missing=()
	shift
	for line in "$@"; do
		# key: all before the last "=" (dtparam=i2c_arm=on -> dtparam=i2c_arm)
		grep -q "^${line%=*}=" "$file" || missing+=("$line")
	done
	[ ${#missing[@]} -eq 0 ] || { printf '\n[all]\n'; printf '%s\n' "${missing[@]}"; } >>"$file"
}

configure_boot() {
	local boot cmdline
	boot=$(boot_dir)
	if [ -z "$boot" ]; then
		step "no config.txt/cmdline.txt found: skipping I2C/UART/watchdog boot settings (not a Raspberry Pi)"
		return 0
	fi
	step "boot settings in $boot: I2C, UART, hardware watchdog"
	if [ -f /etc/default/raspi-firmware ]; then
		# Debian's raspi-firmware writes config.txt anew at every kernel or initramfs
		# update, appending raspi-firmware-custom: the settings go there.
		touch /etc/default/raspi-firmware-custom
		config_lines /etc/default/raspi-firmware-custom dtparam=i2c_arm=on enable_uart=1 dtparam=watchdog=on
		# the hook acts only as a package's "configure" step
		DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware >/dev/null
	fi
	if [ -f "$boot/config.txt" ]; then
		config_lines "$boot/config.txt" dtparam=i2c_arm=on enable_uart=1 dtparam=watchdog=on
	fi
	if [ -f "$boot/cmdline.txt" ]; then
		cmdline=$(head -n 1 "$boot/cmdline.txt")
		# The UART belongs to the printer: no kernel console on it.
		cmdline=$(echo "$cmdline" | sed -E 's/ ?console=(serial0|ttyAMA0|ttyS0),[0-9]+//g')
		if [ "$IMAGE" = yes ]; then
			# Keep the root at its built size: the free space becomes the data partition.
			cmdline=$(echo "$cmdline" | sed -E 's# ?init=/usr/lib/raspberrypi-sys-mods/firstboot##; s/(^| )resize( |$)/\1\2/; s/  +/ /g; s/ $//')
		fi
		echo "$cmdline" >"$boot/cmdline.txt"
	fi
	if [ "$IMAGE" = yes ]; then
		systemctl disable rpi-resize.service resize2fs_once.service >/dev/null 2>&1 || true
	fi
}

install_packages
create_user
install_agent
install_files
configure_boot
if [ "$IMAGE" = no ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	step "done: put the config in $(boot_dir || echo /boot/firmware)/kiosk-agent.toml and reboot"
else
	step "done"
fi
