// Package keystonetest is an in-process fake of OpenStack Keystone v3 (and of
// Cleura Cloud's REST login) for tests and examples, in the spirit of
// net/http/httptest.
package keystonetest
