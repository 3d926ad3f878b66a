"""Board profiles as data: one TOML file per supported Raspberry Pi."""
