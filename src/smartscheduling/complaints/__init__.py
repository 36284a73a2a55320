"""Privacy complaints: the form, the acknowledgement and its clocks, the staff queue and
the complainant's view of their complaint."""
