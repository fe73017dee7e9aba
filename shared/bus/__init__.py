"""The bus: the message schema and wire words (``schema``), the sockets (``sockets``), the people-changed announcer."""
