// ESO's certificate, PKCS#12 and RSA template functions (pkg/template/v2 in
// external-secrets), reimplemented here with the same libraries and semantics so the
// differential tests compare Tessera against ESO's behaviour.
package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strings"
	"text/template"

	"golang.org/x/crypto/bcrypt"
	gopkcs12 "software.sslmate.com/src/go-pkcs12"
)

func esoCertFuncs() template.FuncMap {
	return template.FuncMap{
		"pkcs12key":                 func(in string) (string, error) { return pkcs12keyPass("", in) },
		"pkcs12keyPass":             pkcs12keyPass,
		"pkcs12cert":                func(in string) (string, error) { return pkcs12certPass("", in) },
		"pkcs12certPass":            pkcs12certPass,
		"pemToPkcs12":               func(c, k string) (string, error) { return pemToPkcs12Pass(c, k, "") },
		"pemToPkcs12Pass":           pemToPkcs12Pass,
		"fullPemToPkcs12":           func(c, k string) (string, error) { return fullPemToPkcs12Pass(c, k, "") },
		"fullPemToPkcs12Pass":       fullPemToPkcs12Pass,
		"pemTruststoreToPKCS12":     func(c string) (string, error) { return pemTruststoreToPKCS12Pass(c, "") },
		"pemTruststoreToPKCS12Pass": pemTruststoreToPKCS12Pass,
		"filterCertChain":           filterCertChain,
		"certSANs":                  certSANs,
		"hexdec":                    hexdec,
		"htpasswd":                  htpasswd,
		"rsaDecrypt":                rsaDecrypt,
	}
}

func encodePEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func parsePrivateKey(der []byte) (any, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("unable to parse private key type")
}

func pkcs12keyPass(pass, input string) (string, error) {
	key, _, _, err := gopkcs12.DecodeChain([]byte(input), pass)
	if err != nil {
		return "", fmt.Errorf("unable to decode pkcs12 with password: %s", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	return string(encodePEM("PRIVATE KEY", der)), nil
}

func pkcs12certPass(pass, input string) (string, error) {
	_, cert, cas, err := gopkcs12.DecodeChain([]byte(input), pass)
	if err != nil {
		return "", fmt.Errorf("unable to decode pkcs12 certificate with password: %s", err)
	}
	all := append([]*x509.Certificate{cert}, cas...)
	ordered, err := orderChain(all)
	if err != nil {
		ordered = all
	}
	var out []byte
	for _, c := range ordered {
		out = append(out, encodePEM("CERTIFICATE", c.Raw)...)
	}
	return string(out), nil
}

// orderChain links certificates leaf → root by AuthorityKeyId/SubjectKeyId, like ESO's
// fetchX509CertChains.
func orderChain(certs []*x509.Certificate) ([]*x509.Certificate, error) {
	parent := make([]int, len(certs))
	isParent := make([]bool, len(certs))
	for i := range certs {
		parent[i] = -1
		for j := range certs {
			if i == j {
				continue
			}
			if bytes.Equal(certs[i].AuthorityKeyId, certs[j].SubjectKeyId) {
				isParent[j] = true
				parent[i] = j
				break
			}
		}
	}
	leaf := -1
	for i := range certs {
		if !isParent[i] {
			if leaf >= 0 {
				return nil, errors.New("found multiple leaf or disjunct certificates")
			}
			leaf = i
		}
	}
	if leaf < 0 {
		return nil, errors.New("no leaf certificate found")
	}
	var out []*x509.Certificate
	for n := leaf; n >= 0; n = parent[n] {
		if len(out) >= len(certs) {
			return nil, errors.New("constructing chain resulted in cycle")
		}
		out = append(out, certs[n])
	}
	return out, nil
}

func pemCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		block, rest := pem.Decode(data)
		data = rest
		if block == nil {
			return out, nil
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

func isRoot(c *x509.Certificate) bool {
	return c.AuthorityKeyId == nil || bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId)
}

func filterCertChain(certType, input string) (string, error) {
	certs, err := pemCerts([]byte(input))
	if err != nil {
		return "", err
	}
	ordered, err := orderChain(certs)
	if err != nil {
		return "", err
	}
	switch certType {
	case "leaf":
		c := ordered[0]
		if c.AuthorityKeyId != nil && !bytes.Equal(c.AuthorityKeyId, c.SubjectKeyId) {
			return string(encodePEM("CERTIFICATE", c.Raw)), nil
		}
	case "intermediate":
		if len(ordered) < 2 {
			return "", nil
		}
		var out []byte
		for _, c := range ordered[1:] {
			if isRoot(c) {
				break
			}
			out = append(out, encodePEM("CERTIFICATE", c.Raw)...)
		}
		return string(out), nil
	case "root":
		c := ordered[len(ordered)-1]
		if isRoot(c) {
			return string(encodePEM("CERTIFICATE", c.Raw)), nil
		}
	}
	return "", nil
}

// The nil dereferences below are deliberate: ESO does not check pem.Decode's result, and
// text/template turns the panic into the call's error.
func parseCaCerts(data []byte) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0)
	for len(data) > 0 {
		block, rest := pem.Decode(data)
		data = rest
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func toPkcs12(cert *x509.Certificate, key string, cas []*x509.Certificate, pass string) (string, error) {
	block, _ := pem.Decode([]byte(key))
	k, err := parsePrivateKey(block.Bytes)
	if err != nil {
		return "", err
	}
	pfx, err := gopkcs12.Modern.Encode(k, cert, cas, pass)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(pfx), nil
}

func pemToPkcs12Pass(cert, key, pass string) (string, error) {
	block, _ := pem.Decode([]byte(cert))
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", err
	}
	return toPkcs12(c, key, nil, pass)
}

func fullPemToPkcs12Pass(cert, key, pass string) (string, error) {
	block, rest := pem.Decode([]byte(cert))
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", err
	}
	cas, err := parseCaCerts(rest)
	if err != nil {
		return "", err
	}
	return toPkcs12(c, key, cas, pass)
}

func pemTruststoreToPKCS12Pass(cert, pass string) (string, error) {
	cas, err := parseCaCerts([]byte(cert))
	if err != nil {
		return "", err
	}
	pfx, err := gopkcs12.Modern.EncodeTrustStore(cas, pass)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(pfx), nil
}

func oaepHash(name string) hash.Hash {
	switch name {
	case "SHA1":
		return crypto.SHA1.New()
	case "SHA512":
		return sha512.New()
	default:
		return sha256.New()
	}
}

func rsaDecrypt(scheme, hashName, in, privateKey string) (string, error) {
	switch scheme {
	case "None":
		return in, nil
	case "RSA-OAEP":
		block, _ := pem.Decode([]byte(privateKey))
		if block == nil {
			return "", errors.New("failed to decode PEM block")
		}
		k, err := parsePrivateKey(block.Bytes)
		if err != nil {
			return "", fmt.Errorf("could not parse private key: %v", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return "", errors.New("could not parse RSA private key")
		}
		out, err := rsa.DecryptOAEP(oaepHash(hashName), nil, rk, []byte(in), nil)
		if err != nil {
			return "", fmt.Errorf("error decrypting data with RSA: %v", err)
		}
		return string(out), nil
	default:
		return "", fmt.Errorf("decryption scheme %v is not supported", scheme)
	}
}

// hexdec is ESO 2.9's sprig addition: hex.DecodeString, with the error's text in place of the
// bytes when the input is not hex.
func hexdec(v string) string {
	b, err := hex.DecodeString(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// certSANs is ESO's: the SANs of the first PEM certificate in the input (text before the first
// "-----BEGIN" is skipped), as DNS names, then IPs, emails and URIs.
func certSANs(input string) ([]string, error) {
	if i := strings.Index(input, "-----BEGIN"); i >= 0 {
		input = input[i:]
	}
	block, _ := pem.Decode([]byte(input))
	if block == nil {
		return nil, errors.New("failed to decode PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("failed to parse certificate: %w", err)
	}
	out := append([]string{}, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		out = append(out, ip.String())
	}
	out = append(out, cert.EmailAddresses...)
	for _, u := range cert.URIs {
		out = append(out, u.String())
	}
	return out, nil
}

// htpasswd is ESO 2.9's sprig version, which takes the hash algorithm as a third argument
// ("sha" for {SHA}, anything else bcrypt at the default cost); upstream sprig has two arguments.
func htpasswd(username string, password string, hashAlgorithm string) string {
	if strings.Contains(username, ":") {
		return fmt.Sprintf("invalid username: %s", username)
	}
	if hashAlgorithm == "sha" {
		sum := sha1.Sum([]byte(password))
		return fmt.Sprintf("%s:{SHA}%s", username, base64.StdEncoding.EncodeToString(sum[:]))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Sprintf("%s:failed to encrypt string with bcrypt: %s", username, err)
	}
	return fmt.Sprintf("%s:%s", username, hash)
}
