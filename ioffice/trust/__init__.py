"""Trust anchors from files: root and intermediate CA certificates the system administrator
imports (PEM or DER), stored in the database so that every web and worker process trusts the
same set; validation trusts exactly those plus the simulated CA when it is enabled."""
