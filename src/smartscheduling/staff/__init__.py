"""The staff console: the client directory and client records (this package), built on
scheduling's appointments and the accounts' people."""
