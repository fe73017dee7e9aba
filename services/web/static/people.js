// Filled in by the People page work.
