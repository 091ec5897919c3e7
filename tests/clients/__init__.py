"""Other projects' clients (kserve, mlserver), each in its own venv, run as subprocesses."""
