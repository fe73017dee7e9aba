"""The inference worker process (``python -m services.infer``).

One BLAS thread per worker; parallelism comes from more workers. Measured on 2
cores (bench/pipeline.py, capacity phase): with OpenBLAS's default threads one
worker used 1.17 cores for 53.6 frames/s, single-threaded 0.93 cores for
54.8, and two threaded workers fought over the cores (77 against 86
frames/s). It must be set before numpy or dlib loads OpenBLAS: this package
is imported before its ``__main__`` and anything that imports numpy. A value
already in the environment wins.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
