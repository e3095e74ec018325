"""The abuse desk's I/O shell: intake, routing, mail, the log, timers (docs/abuse.md).

The decisions live in `veil.abuse` (pure); these modules read and write the store, look up
hosting providers and move mail."""
