"""Small manifests several tests write into repos they build."""

#: A Pod that fails Pod Security baseline (privileged: true at line 10).
PRIVILEGED_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
  - name: shell
    image: busybox:1.36
    securityContext:
      privileged: true
"""
