//go:build !integration

package ksauth

// setupIntegration starts nothing without the integration build tag; see
// integration_main_test.go.
func setupIntegration() (func(), error) { return func() {}, nil }
