"""face_recognition must really import: under setuptools 81+ it quits the process silently instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.harness import ROOT


def _python(code: str, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (extra_path, ROOT) if p)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_face_recognition_really_imports() -> None:
    run = _python("import face_recognition, dlib; print('imported', face_recognition.__version__)")
    assert run.returncode == 0 and run.stdout.startswith("imported"), (
        f"import face_recognition did not finish (exit {run.returncode}): {run.stdout} {run.stderr}"
    )


def test_a_library_that_quits_on_import_becomes_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "face_recognition.py").write_text("print('Please install models')\nquit()\n")
    run = _python(
        "from shared.faces import facelib\n"
        "try:\n    facelib.load()\nexcept facelib.FaceLibraryError as error:\n    print('ERROR', error)\n",
        extra_path=tmp_path,
    )
    assert run.returncode == 0
    assert "ERROR face_recognition quit while importing" in run.stdout and "Please install models" in run.stdout
    assert "setuptools" in run.stdout


def test_importing_facelib_loads_nothing_yet() -> None:
    run = _python("import sys\nfrom shared.faces import facelib\nprint('face_recognition' in sys.modules)")
    assert run.stdout.strip() == "False"


def test_the_unused_landmark_model_is_freed_and_faces_still_encode() -> None:
    """face_recognition loads a 73 MB 68-point model at import that encoding never uses."""
    run = _python(
        "import sys\nimport numpy as np\nfrom shared.faces import facelib\n"
        "facelib.load()\n"
        "print('dropped', sys.modules['face_recognition.api'].pose_predictor_68_point is None)\n"
        "image = np.zeros((200, 200, 3), dtype=np.uint8)\n"
        "print('encoded', facelib.encode(image, [(50, 150, 150, 50)]).shape)\n"
    )
    assert "dropped True" in run.stdout, run.stdout + run.stderr
    assert "encoded (1, 128)" in run.stdout, run.stdout + run.stderr
