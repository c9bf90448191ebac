package graph

import (
	"encoding/base64"

	"github.com/vscard/vscard/graph/model"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/tpmverify"
)

// maxTPMField bounds one base64 field of TPM evidence before it is decoded (an EK
// certificate is 1-2 KiB; tpmverify checks the decoded sizes again).
const maxTPMField = 12 << 10

func unbase64(field, s string) ([]byte, error) {
	if len(s) > maxTPMField {
		return nil, errs.New(errs.InvalidInput, "%s is too long.", field).
			WithDetails(map[string]any{"field": field, "reason": string(tpmverify.EvidenceInvalid)})
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidInput, "%s is not base64.", field).
			WithDetails(map[string]any{"field": field, "reason": string(tpmverify.EvidenceInvalid)})
	}
	return b, nil
}

func tpmIdentity(in *model.TpmIdentityInput) (tpmverify.Identity, error) {
	ek, err := unbase64("ekCertificate", in.EkCertificate)
	if err != nil {
		return tpmverify.Identity{}, err
	}
	ak, err := unbase64("akPublic", in.AkPublic)
	if err != nil {
		return tpmverify.Identity{}, err
	}
	return tpmverify.Identity{EKCert: ek, AKPublic: ak}, nil
}

func tpmEvidence(in *model.TpmEvidenceInput) (*enroll.TPMEvidence, error) {
	id, err := tpmIdentity(in.Identity)
	if err != nil {
		return nil, err
	}
	ev := &enroll.TPMEvidence{Identity: id}
	for _, f := range []struct {
		name, value string
		to          *[]byte
	}{
		{"secret", in.Secret, &ev.Secret},
		{"keyPublic", in.KeyPublic, &ev.KeyPublic},
		{"certifyInfo", in.CertifyInfo, &ev.CertifyInfo},
		{"signature", in.Signature, &ev.Signature},
	} {
		if *f.to, err = unbase64(f.name, f.value); err != nil {
			return nil, err
		}
	}
	return ev, nil
}
