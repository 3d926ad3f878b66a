"""The front panel: the OLED screens (pure state -> image) and the LEDs, buzzer and buttons that observe the agent."""
