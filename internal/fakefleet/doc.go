// Package fakefleet gives engine unit tests a fleet without apiservers: hub
// and spoke kube.Clients on controller-runtime's fake client and
// client-go's fake discovery, and a fleet.Dialer that hands out the spoke
// clients by cluster name (or fails for the ones told to). The envtest
// fleet (internal/testfleet) stays for server-side dry-runs and the
// end-to-end tests.
package fakefleet
