package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTLSFlagsCheck(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		valid bool
	}{
		{name: "none", valid: true},
		{name: "self-signed", args: []string{"-tls-self-signed"}, valid: true},
		{name: "files", args: []string{"-tls-cert", "c.pem", "-tls-key", "k.pem"}, valid: true},
		{name: "cert alone", args: []string{"-tls-cert", "c.pem"}},
		{name: "key alone", args: []string{"-tls-key", "k.pem"}},
		{name: "both kinds", args: []string{"-tls-self-signed", "-tls-cert", "c.pem", "-tls-key", "k.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f TLSFlags
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f.Register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := f.Check(); (err == nil) != tt.valid {
				t.Errorf("Check() = %v, want valid %v", err, tt.valid)
			}
		})
	}
}

// TestTLSSelfSigned: the certificate verifies for 127.0.0.1 and localhost
// against itself, and the fingerprint printed is its own.
func TestTLSSelfSigned(t *testing.T) {
	var out bytes.Buffer
	cfg, err := TLSFlags{SelfSigned: true}.Config(&out, "http/1.1")
	if err != nil {
		t.Fatal(err)
	}
	leaf := cfg.Certificates[0].Leaf
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	for _, name := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	want := "SHA-256 fingerprint " + Fingerprint(leaf.Raw) + "\n"
	if !strings.HasSuffix(out.String(), want) || len(Fingerprint(leaf.Raw)) != 32*3-1 {
		t.Errorf("printed %q, want it to end with %q", out.String(), want)
	}
	if cfg.NextProtos[0] != "http/1.1" {
		t.Errorf("NextProtos = %q", cfg.NextProtos)
	}
}

// TestTLSFiles loads a certificate and key from PEM files.
func TestTLSFiles(t *testing.T) {
	cert, err := SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := TLSFlags{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(f.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.Config(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cfg.Certificates[0].Certificate[0], cert.Certificate[0]) {
		t.Error("loaded another certificate")
	}
	if cfg, err := (TLSFlags{}).Config(io.Discard); cfg != nil || err != nil {
		t.Errorf("no flags: %v, %v; want nil, nil", cfg, err)
	}
}
