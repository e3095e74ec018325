"""Pure HTTP helpers: framing checks, header rules, dates. No I/O, standard library only."""
