"""One module per kiosk-agent subcommand; heavy imports stay inside main()."""
