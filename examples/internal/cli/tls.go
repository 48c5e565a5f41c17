package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"time"
)

// TLSFlags are the TLS flags of the example servers: a certificate and key
// from files, or a self-signed certificate made in memory for trying TLS
// out. The zero value serves plain text.
type TLSFlags struct {
	Cert, Key  string // PEM files
	SelfSigned bool
}

// Register adds -tls-cert, -tls-key and -tls-self-signed to fs.
func (f *TLSFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Cert, "tls-cert", "", "serve TLS with the certificate (chain) in this PEM file; needs -tls-key")
	fs.StringVar(&f.Key, "tls-key", "", "the private key of -tls-cert, a PEM file")
	fs.BoolVar(&f.SelfSigned, "tls-self-signed", false,
		"serve TLS with a certificate for 127.0.0.1, ::1 and localhost made at startup (its SHA-256 fingerprint is printed)")
}

// Check reports a combination of the flags that cannot be served.
func (f TLSFlags) Check() error {
	switch {
	case (f.Cert == "") != (f.Key == ""):
		return errors.New("-tls-cert and -tls-key go together")
	case f.SelfSigned && f.Cert != "":
		return errors.New("-tls-self-signed and -tls-cert exclude each other")
	}
	return nil
}

// Config returns the server configuration the flags ask for, with
// nextProtos as its ALPN protocols, or nil for plain text. A self-signed
// certificate's fingerprint is written to w.
func (f TLSFlags) Config(w io.Writer, nextProtos ...string) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case f.SelfSigned:
		cert, err = SelfSigned()
		if err == nil {
			fmt.Fprintf(w, "TLS certificate (self-signed) SHA-256 fingerprint %s\n", Fingerprint(cert.Certificate[0]))
		}
	case f.Cert != "":
		cert, err = tls.LoadX509KeyPair(f.Cert, f.Key)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: nextProtos}, nil
}

// SelfSigned makes an ECDSA P-256 certificate for 127.0.0.1, ::1 and
// localhost, valid for a week from an hour ago.
func SelfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"evloop example"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // its own authority, so a client can trust it alone
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// Fingerprint is the SHA-256 of a DER certificate as openssl x509
// -fingerprint -sha256 prints it: upper-case hex pairs joined by colons.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}
