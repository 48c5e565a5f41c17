// Package tlscert makes the certificate the TLS contestants serve: an
// ECDSA P-256 key and a self-signed certificate for 127.0.0.1 and
// localhost, made in memory at start. Load generators do not verify it.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// PEM returns a new self-signed certificate and its key, PEM-encoded (for
// TLS stacks other than crypto/tls, such as nbio's).
func PEM() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// Config returns a crypto/tls server configuration with a new self-signed
// certificate and crypto/tls's defaults otherwise (TLS 1.2 and 1.3,
// session tickets on).
func Config() (*tls.Config, error) {
	certPEM, keyPEM, err := PEM()
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

// Client returns the configuration load generators dial with: the
// certificate is not verified, TLS 1.3 (crypto/tls's default) is
// negotiated, and sessions are not resumed (no session cache), so every
// connection makes a full handshake.
func Client() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: "127.0.0.1"}
}
