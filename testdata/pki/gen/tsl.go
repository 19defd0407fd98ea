package main

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

const (
	tslNS          = "http://uri.etsi.org/02231/v2#"
	svcIdV         = "http://uri.etsi.org/TrstSvc/Svctype/IdV"
	svcCAQC        = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
	statusGranted  = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
	statusNational = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel"
	statusWithdrwn = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
)

// writeTSL writes tsl/IT-TL-dev.xml, a small trusted list signed by tsl-signer, and
// tsl/IT-TL-dev-tampered.xml, the same list with a withdrawn service turned "granted" after
// signing (its signature no longer verifies).
func writeTSL(cieRoot, cnsCA, unknownCA *ca) error {
	key, err := rsaKey()
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Country: []string{"IT"}, Organization: []string{"AgID (DEV)"}, CommonName: "Trusted List Signer (DEV)"},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	signer, err := sign(tmpl, &ca{cert: tmpl, key: key}, key)
	if err != nil {
		return err
	}
	if err := writeCert("tsl/tsl-signer", signer); err != nil {
		return err
	}
	if err := writeKey("tsl/tsl-signer", key); err != nil {
		return err
	}

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("TrustServiceStatusList")
	root.CreateAttr("xmlns", tslNS)
	root.CreateAttr("Id", "TSL-IT-DEV")
	root.CreateAttr("TSLTag", "http://uri.etsi.org/19612/TSLTag")
	si := root.CreateElement("SchemeInformation")
	si.CreateElement("TSLVersionIdentifier").SetText("5")
	si.CreateElement("TSLSequenceNumber").SetText("1")
	si.CreateElement("TSLType").SetText("http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric")
	name(si.CreateElement("SchemeOperatorName"), "Agenzia per l'Italia Digitale (DEV)")
	si.CreateElement("SchemeTerritory").SetText("IT")
	si.CreateElement("ListIssueDateTime").SetText(now.Format(time.RFC3339))
	si.CreateElement("NextUpdate").CreateElement("dateTime").SetText(now.Add(lifetime).Format(time.RFC3339))

	list := root.CreateElement("TrustServiceProviderList")
	tsp := func(tspName string, services ...[3]string) {
		p := list.CreateElement("TrustServiceProvider")
		name(p.CreateElement("TSPInformation").CreateElement("TSPName"), tspName)
		ss := p.CreateElement("TSPServices")
		for _, s := range services {
			info := ss.CreateElement("TSPService").CreateElement("ServiceInformation")
			info.CreateElement("ServiceTypeIdentifier").SetText(s[0])
			name(info.CreateElement("ServiceName"), tspName+" service")
			info.CreateElement("ServiceDigitalIdentity").CreateElement("DigitalId").
				CreateElement("X509Certificate").SetText(s[2])
			info.CreateElement("ServiceStatus").SetText(s[1])
			info.CreateElement("StatusStartingTime").SetText(now.Add(-24 * time.Hour).Format(time.RFC3339))
		}
	}
	b64 := func(c *ca) string { return base64.StdEncoding.EncodeToString(c.cert.Raw) }
	tsp("Ministero dell'Interno (DEV)", [3]string{svcIdV, statusGranted, b64(cieRoot)})
	tsp("Regione Lombardia (DEV)", [3]string{svcIdV, statusNational, b64(cnsCA)})
	tsp("Nobody (DEV)",
		[3]string{svcIdV, statusWithdrwn, b64(unknownCA)},
		[3]string{svcCAQC, statusGranted, b64(unknownCA)})
	doc.Indent(2)

	ctx, err := dsig.NewSigningContext(key, [][]byte{signer.Raw})
	if err != nil {
		return err
	}
	ctx.IdAttribute = "Id"
	signed, err := ctx.SignEnveloped(root)
	if err != nil {
		return err
	}
	doc.SetRoot(signed)
	out, err := doc.WriteToString()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*outDir, "tsl", "IT-TL-dev.xml"), []byte(out), 0o644); err != nil {
		return err
	}
	tampered := strings.Replace(out, statusWithdrwn, statusGranted, 1)
	return os.WriteFile(filepath.Join(*outDir, "tsl", "IT-TL-dev-tampered.xml"), []byte(tampered), 0o644)
}

func name(parent *etree.Element, text string) {
	n := parent.CreateElement("Name")
	n.CreateAttr("xml:lang", "en")
	n.SetText(text)
}
