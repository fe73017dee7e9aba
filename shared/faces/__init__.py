"""Faces: the safe face_recognition import, detection with scaling, encoding, the gallery and its cache, the matcher."""
