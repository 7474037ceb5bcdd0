package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// newClusterCA creates the self-signed CA certificate of a new cluster and
// returns it as DescribeCluster's certificateAuthority.data: base64 of the
// PEM, as EKS sends it. Like EKS's cluster CAs its subject is CN=kubernetes
// and it is valid for ten years. EKS's keys are RSA 2048; this one is ECDSA
// P-256 (as k3s's cluster CAs are), because generating an RSA key costs
// tens of milliseconds and a large scenario builds dozens of clusters.
//
// This is a seam: the emulator has no API server, so nobody can use the
// key, which is discarded. The sandbox's control plane replaces
// Cluster.CertificateData with its real CA once it runs the cluster.
func newClusterCA(now time.Time) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generating the cluster CA key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return "", fmt.Errorf("generating the cluster CA serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kubernetes"},
		NotBefore:             now.Add(-5 * time.Minute).UTC(),
		NotAfter:              now.AddDate(10, 0, 0).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true, // x509 derives the subject key ID
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", fmt.Errorf("signing the cluster CA: %w", err)
	}
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}
