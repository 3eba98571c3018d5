"""FedChirp: a federated microblog server."""

__version__ = "0.1.0"
SOFTWARE_NAME = "fedchirp"
