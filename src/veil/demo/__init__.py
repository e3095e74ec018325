"""The demo origin that `veil up --demo` puts behind the `demo.localhost` zone."""
