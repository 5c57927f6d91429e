@echo off
rem Completion shim for kubectl c5c3 (kubectl 1.26 or newer), found through PATHEXT.
kubectl c5c3 __complete %*
