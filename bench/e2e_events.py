"""Our labels for the Kubernetes e2e build log (../shared/fixtures/ci/sonobuoy-e2e/): one
regular expression per event, written by reading the log the way Loghub's annotators
did. A line matching none is left out of the measure (the bench reports how many)."""

from __future__ import annotations

import re

EVENTS = [
    ("source-line", r"^\s+/workspace/src/k8s\.io/kubernetes/.*\.go:\d+$"),
    ("separator", r"^-+$"),
    ("skips", r"^S+$"),
    ("received-host", r"INFO: Received response from host: "),
    ("waiting-all", r"INFO: Waiting up to \S+ for all "),
    ("kubeconfig", r"INFO: >>> kubeConfig: "),
    ("step-creating-client", r"^STEP: Creating a kubernetes client$"),
    ("step-creating-pod-test", r"^STEP: Creating a pod to test "),
    ("step-destroying-ns", r"^STEP: Destroying namespace \".*\" for this suite\.$"),
    ("pod-phase", r"INFO: Pod \".*\": Phase=\".*\", Reason=\".*\", readiness=\w+\. Elapsed: "),
    ("step-default-sa", r"^STEP: Waiting for a default service account to be provisioned"),
    ("step-building-ns", r"^STEP: Building a namespace api object, basename "),
    ("after-each", r"^\[AfterEach\] "),
    ("before-each", r"^\[BeforeEach\] "),
    ("it", r"^\[It\] "),
    ("pod-gone", r"INFO: Pod .* no longer exists$"),
    ("wait-disappear", r"INFO: Waiting for pod .* to disappear$"),
    ("kubectl-exec", r"INFO: Running '/usr/local/bin/kubectl .* exec "),
    ("stderr", r"INFO: stderr: "),
    ("stdout", r"INFO: stdout: "),
    ("slow-test", r"^• \[SLOW TEST:[\d.]+ seconds\]$"),
    ("step-delete-pod", r"^STEP: delete the pod$"),
    ("logs-from-node", r"INFO: Trying to get logs from node "),
    ("condition", r"INFO: Pod \".*\" satisfied condition "),
    ("step-saw-success", r"^STEP: Saw pod success$"),
    ("waiting-pod", r"INFO: Waiting up to \S+ for pod \".*\" in namespace \".*\" to be "),
    ("pods-running", r"INFO: \d+ / \d+ pods in namespace .* are running and ready"),
    ("passed", r"^•?\{\"msg\":\"PASSED "),
    ("rc-terminating", r"INFO: Terminating ReplicationController .* pods took: "),
    ("rc-deleting", r"INFO: Deleting ReplicationController .* took: "),
    ("step-deleting-rc", r"^STEP: deleting ReplicationController .* in namespace "),
    ("exec-pod", r"INFO: Creating new exec pod$"),
    ("runners-pods", r"runners\.go:\d+\] .* Pods: \d+ out of \d+ created"),
    ("runners-created", r"runners\.go:\d+\] Created replication controller with name: "),
    ("step-creating-rc", r"^STEP: creating replication controller .* in namespace "),
    ("step-creating-service-named", r"^STEP: creating service \S+ in namespace "),
    ("step-resource-quota", r"^STEP: Ensuring resource quota with (not )?terminating scope "),
    ("deploying-webhook", r"^STEP: Deploying the webhook "),
    ("expected-replicas", r"INFO: expected \d+ pod replicas in namespace "),
    ("pod-status", r"INFO: The status of Pod .* is "),
    ("conformance-title", r"^\s+should .*\[Conformance\]$"),
]
_COMPILED = [(name, re.compile(rx)) for name, rx in EVENTS]


def label(line: str) -> str | None:
    return next((name for name, rx in _COMPILED if rx.search(line)), None)
