package ca

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
)

// Object identifiers Go's x509 package does not know.
var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	// oidUPN is Microsoft's user principal name otherName.
	oidUPN = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
	// oidSmartcardLogon is Microsoft's smart card logon extended key usage.
	oidSmartcardLogon = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 2}
)

// GeneralName tags (RFC 5280 4.2.1.6), context-specific.
const (
	tagOtherName  = 0
	tagRFC822Name = 1
	tagDNSName    = 2
	tagURI        = 6
	tagIPAddress  = 7
)

// sans are the subject alternative names vscard writes: at most one UPN, and emails.
type sans struct {
	UPN    string
	Emails []string
}

func (s sans) empty() bool { return s.UPN == "" && len(s.Emails) == 0 }

// otherName is the GeneralName otherName: [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT value }.
type otherName struct {
	TypeID asn1.ObjectIdentifier
	Value  asn1.RawValue
}

// marshalSANs encodes s as the value of a subjectAltName extension. Go's x509 cannot write
// otherName, so the whole extension is built here, and with it the rfc822Names.
func marshalSANs(s sans) ([]byte, error) {
	var names []asn1.RawValue
	if s.UPN != "" {
		upn, err := asn1.MarshalWithParams(s.UPN, "utf8")
		if err != nil {
			return nil, fmt.Errorf("encode UPN: %w", err)
		}
		on, err := asn1.MarshalWithParams(otherName{
			TypeID: oidUPN,
			Value:  asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: upn},
		}, fmt.Sprintf("tag:%d", tagOtherName))
		if err != nil {
			return nil, fmt.Errorf("encode otherName: %w", err)
		}
		names = append(names, asn1.RawValue{FullBytes: on})
	}
	for _, e := range s.Emails {
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagRFC822Name, Bytes: []byte(e)})
	}
	der, err := asn1.Marshal(names)
	if err != nil {
		return nil, fmt.Errorf("encode subjectAltName: %w", err)
	}
	return der, nil
}

// parsedSANs is every GeneralName of a subjectAltName extension: the ones vscard writes,
// and a printable form of all others.
type parsedSANs struct {
	sans
	UPNs  []string
	Other []string
}

// parseSANs decodes the value of a subjectAltName extension.
func parseSANs(der []byte) (parsedSANs, error) {
	var p parsedSANs
	var names []asn1.RawValue
	rest, err := asn1.Unmarshal(der, &names)
	if err != nil {
		return p, fmt.Errorf("decode subjectAltName: %w", err)
	}
	if len(rest) > 0 {
		return p, fmt.Errorf("decode subjectAltName: trailing data")
	}
	for _, n := range names {
		if n.Class != asn1.ClassContextSpecific {
			return p, fmt.Errorf("decode subjectAltName: unexpected class %d", n.Class)
		}
		switch n.Tag {
		case tagOtherName:
			var on otherName
			if _, err := asn1.UnmarshalWithParams(n.FullBytes, &on, fmt.Sprintf("tag:%d", tagOtherName)); err != nil {
				return p, fmt.Errorf("decode otherName: %w", err)
			}
			if !on.TypeID.Equal(oidUPN) {
				p.Other = append(p.Other, "otherName "+on.TypeID.String())
				continue
			}
			var upn string
			if _, err := asn1.UnmarshalWithParams(on.Value.Bytes, &upn, "utf8"); err != nil {
				return p, fmt.Errorf("decode UPN: %w", err)
			}
			p.UPNs = append(p.UPNs, upn)
		case tagRFC822Name:
			p.Emails = append(p.Emails, string(n.Bytes))
		case tagDNSName:
			p.Other = append(p.Other, "DNS:"+string(n.Bytes))
		case tagURI:
			p.Other = append(p.Other, "URI:"+string(n.Bytes))
		case tagIPAddress:
			p.Other = append(p.Other, fmt.Sprintf("IP:%x", n.Bytes))
		default:
			p.Other = append(p.Other, fmt.Sprintf("GeneralName [%d]", n.Tag))
		}
	}
	if len(p.UPNs) > 0 {
		p.UPN = p.UPNs[0]
	}
	return p, nil
}

// UPNs returns the user principal names (otherName 1.3.6.1.4.1.311.20.2.3) in cert's
// subject alternative names. Go's x509 package skips otherNames when it parses.
func UPNs(cert *x509.Certificate) ([]string, error) {
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidSubjectAltName) {
			p, err := parseSANs(ext.Value)
			if err != nil {
				return nil, err
			}
			return p.UPNs, nil
		}
	}
	return nil, nil
}

// extraSANs returns the names requested in a CSR's subjectAltName extension that granted
// does not contain. Emails compare case-insensitively, UPNs exactly.
func extraSANs(requested parsedSANs, granted sans) []string {
	var extra []string
	for _, u := range requested.UPNs {
		if u != granted.UPN {
			extra = append(extra, "UPN:"+u)
		}
	}
	for _, e := range requested.Emails {
		found := false
		for _, g := range granted.Emails {
			if strings.EqualFold(e, g) {
				found = true
				break
			}
		}
		if !found {
			extra = append(extra, "email:"+e)
		}
	}
	return append(extra, requested.Other...)
}
