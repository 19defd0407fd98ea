package devidp

// Password is every dev user's password.
const Password = "test-password"

// User is a dev SPID identity: the SPID attributes the IdP can release.
type User struct {
	// FiscalCode is the person's codice fiscale (released as fiscalNumber TINIT-<CF>) and,
	// without Username, the login username. Empty for a foreign eIDAS identity.
	FiscalCode string
	// Username is the login username when it is not the fiscal code (an eIDAS
	// PersonIdentifier).
	Username string
	// Attributes by SPID name (fiscalNumber is added from FiscalCode).
	Attributes map[string]string
}

// DefaultUsers are the dev people with SPID credentials (testdata/dev/README.md).
func DefaultUsers() []User {
	return []User{
		{FiscalCode: "RSSMRA80A01H501U", Attributes: map[string]string{
			"spidCode": "DEVS000000001", "name": "Mario", "familyName": "Rossi", "gender": "M",
			"dateOfBirth": "1980-01-01", "placeOfBirth": "H501", "countyOfBirth": "RM",
			"email": "mario.rossi@example.it", "mobilePhone": "+393331234567",
			"address": "Via Roma 1 00100 Roma RM", "idCard": "cartaIdentita CA00000AA comuneRoma 2020-01-01 2030-01-01",
			"expirationDate": "2030-01-01", "domicileMunicipality": "Roma", "domicileProvince": "RM",
			"domicileNation": "IT", "domicilePostalCode": "00100", "domicileStreetAddress": "Via Roma 1",
			"digitalAddress": "mario.rossi@pec.example.it",
		}},
		{FiscalCode: "BNCLRA85M41F205C", Attributes: map[string]string{
			"spidCode": "DEVS000000002", "name": "Laura", "familyName": "Bianchi", "gender": "F",
			"dateOfBirth": "1985-08-01", "placeOfBirth": "F205", "countyOfBirth": "MI",
			"email": "laura.bianchi@example.it", "mobilePhone": "+393339876543",
			"address": "Corso Buenos Aires 10 20124 Milano MI", "expirationDate": "2031-06-30",
			"domicileMunicipality": "Milano", "domicileProvince": "MI", "domicileNation": "IT",
			"domicilePostalCode": "20124", "domicileStreetAddress": "Corso Buenos Aires 10",
			"digitalAddress": "laura.bianchi@pec.example.it",
		}},
		// The security team's console operators: Elena Conti (console:admin; also a CIE
		// certificate), Paolo Franco (console:read).
		{FiscalCode: "CNTLNE75E52L736Y", Attributes: map[string]string{
			"spidCode": "DEVS000000003", "name": "Elena", "familyName": "Conti", "gender": "F",
			"dateOfBirth": "1975-05-12", "placeOfBirth": "L736", "countyOfBirth": "VE",
			"email": "elena.conti@example.it", "mobilePhone": "+393334445566", "expirationDate": "2032-05-12",
		}},
		{FiscalCode: "FRNPLA78H14F839N", Attributes: map[string]string{
			"spidCode": "DEVS000000004", "name": "Paolo", "familyName": "Franco", "gender": "M",
			"dateOfBirth": "1978-06-14", "placeOfBirth": "F839", "countyOfBirth": "NA",
			"email": "paolo.franco@example.it", "mobilePhone": "+393337778899", "expirationDate": "2032-06-14",
		}},
	}
}

// login is the username the form takes.
func (u User) login() string {
	if u.Username != "" {
		return u.Username
	}
	return u.FiscalCode
}

// EIDASUsers are the dev people with a foreign eID (testdata/dev/README.md), as the eIDAS node
// releases them: spidCode is the eIDAS PersonIdentifier.
func EIDASUsers() []User {
	return []User{
		{Username: "DE/IT/0123456789ABCDEF", Attributes: map[string]string{
			"spidCode": "DE/IT/0123456789ABCDEF", "name": "Anna", "familyName": "Schmidt", "dateOfBirth": "1975-05-20",
			"gender": "F", "placeOfBirth": "Berlin", "address": "Unter den Linden 1 10117 Berlin DE",
		}},
		{Username: "ES/IT/X1234567T", Attributes: map[string]string{
			"spidCode": "ES/IT/X1234567T", "name": "Giovanna", "familyName": "Ferrari", "dateOfBirth": "1955-12-10",
			"gender": "F", "placeOfBirth": "Buenos Aires", "address": "Calle Mayor 1 28013 Madrid ES",
		}},
	}
}
