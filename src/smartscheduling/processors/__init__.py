"""The public register of processors: the trusted third parties who help run the service."""
