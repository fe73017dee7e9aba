"""Code every facestream service uses: configuration, the bus message schema, bus sockets, logging."""
