"""The one library every facestream process imports; it imports no service.

- ``config``: every setting, typed; ``process``: how a service starts and stops;
  ``log``: logging; ``token``: the API token; ``boxes``: face boxes.
- ``bus/``: the message schema, the sockets, the people-changed announcer.
- ``faces/``: detection, encoding, the gallery, the matcher, still images.
- ``people/``: the faces folder, names, photo rules, the store, enrolment.
"""
