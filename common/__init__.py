"""Small helpers both rooms use (agent/ and hal/), with no dependency on either."""
