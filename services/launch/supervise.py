"""supervisord, without its words about privileges facestream never asks it to drop.

facestream runs as whoever starts it. As root (a container, a CI runner)
supervisord logs a CRIT line at every start unless its configuration says
``user=root``, and with that it logs "Set uid to user 0 succeeded" instead:
both about dropping privileges to the user it already is. This runs
supervisord with that step skipped when the configured user is the current one
(any other user is still switched to, and said, as supervisord does).
"""

from __future__ import annotations

import os

from supervisor import options, supervisord


class SameUserOptions(options.ServerOptions):
    """supervisord's options, but switching to the current user is a silent no-op."""

    def set_uid_or_exit(self) -> None:
        if self.uid is not None and self.uid == os.getuid():
            return  # already this user: nothing to drop, nothing to say
        super().set_uid_or_exit()


def main() -> None:
    """supervisord's own main, with these options (it makes them from the module's ``ServerOptions`` name)."""
    supervisord.ServerOptions = SameUserOptions
    supervisord.main()


if __name__ == "__main__":
    main()
