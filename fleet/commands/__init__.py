"""One module per `fleet` sub-command; each exposes `register(subparsers)`."""
