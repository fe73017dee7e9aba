"""The known people: the faces folder's layout, names, photo rules, the store, and enrolment."""
