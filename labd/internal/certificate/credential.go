package certificate

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON-LD contexts of an Open Badges 3.0 credential, in the required order.
const (
	ContextVC = "https://www.w3.org/ns/credentials/v2"
	ContextOB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
)

// Credential is an Open Badges 3.0 OpenBadgeCredential (VC Data Model 2.0).
// Standard fields are in English (inLanguage "en"); the Chinese text is in
// the "translations" extension, which the VC context's @vocab covers.
type Credential struct {
	Context           []string           `json:"@context"`
	ID                string             `json:"id"`
	Type              []string           `json:"type"`
	Issuer            Profile            `json:"issuer"`
	ValidFrom         string             `json:"validFrom"`
	ValidUntil        string             `json:"validUntil,omitempty"`
	Name              string             `json:"name"`
	Description       string             `json:"description,omitempty"`
	CredentialSubject AchievementSubject `json:"credentialSubject"`
	Evidence          []EvidenceEntry    `json:"evidence,omitempty"`
	CredentialStatus  *StatusEntry       `json:"credentialStatus,omitempty"`
	Translations      *Translations      `json:"translations,omitempty"`
}

// Translations holds an object's texts in languages other than English,
// as the extension "translations": {"zh": {"name": …, …}}.
type Translations struct {
	ZH Localized `json:"zh"`
}

// Localized is one language's texts of an object.
type Localized struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Criteria    string `json:"criteria,omitempty"`
}

// zh returns the Chinese texts, empty when there are none.
func (t *Translations) zh() Localized {
	if t == nil {
		return Localized{}
	}
	return t.ZH
}

// Profile is the issuer.
type Profile struct {
	ID   string   `json:"id"`
	Type []string `json:"type"`
	Name string   `json:"name"`
	URL  string   `json:"url,omitempty"`
}

// AchievementSubject is who earned the achievement. Its id is a random
// urn:uuid per user, never an e-mail address. The holder's name travels as
// an unhashed IdentityObject of type "name", the Open Badges way: the OB
// schema allows no other properties here (no "name").
type AchievementSubject struct {
	ID          string           `json:"id"`
	Type        []string         `json:"type"`
	Identifier  []IdentityObject `json:"identifier,omitempty"`
	Achievement Achievement      `json:"achievement"`
	Result      []ResultEntry    `json:"result,omitempty"`
}

// IdentityObject identifies the subject.
type IdentityObject struct {
	Type         string `json:"type"`
	IdentityHash string `json:"identityHash"`
	IdentityType string `json:"identityType"`
	Hashed       bool   `json:"hashed"`
}

// Achievement is what was achieved: the certification program.
type Achievement struct {
	ID                string              `json:"id"`
	Type              []string            `json:"type"`
	AchievementType   string              `json:"achievementType,omitempty"`
	Name              string              `json:"name"`
	Description       string              `json:"description"`
	Criteria          Criteria            `json:"criteria"`
	InLanguage        string              `json:"inLanguage,omitempty"`
	HumanCode         string              `json:"humanCode,omitempty"`
	ResultDescription []ResultDescription `json:"resultDescription,omitempty"`
	Translations      *Translations       `json:"translations,omitempty"`
}

// Criteria says how the achievement is earned.
type Criteria struct {
	Narrative string `json:"narrative"`
}

// ResultDescription describes a result the achievement requires.
type ResultDescription struct {
	ID            string        `json:"id"`
	Type          []string      `json:"type"`
	Name          string        `json:"name"`
	ResultType    string        `json:"resultType"`
	RequiredValue string        `json:"requiredValue,omitempty"`
	Translations  *Translations `json:"translations,omitempty"`
}

// ResultEntry is one of the holder's scores.
type ResultEntry struct {
	Type              []string `json:"type"`
	ResultDescription string   `json:"resultDescription"`
	Value             string   `json:"value"`
}

// EvidenceEntry links to evidence of the achievement.
type EvidenceEntry struct {
	ID           string        `json:"id"`
	Type         []string      `json:"type"`
	Name         string        `json:"name,omitempty"`
	Translations *Translations `json:"translations,omitempty"`
}

// Text returns the evidence's name in both languages.
func (e EvidenceEntry) Text() Text { return Text{EN: e.Name, ZH: e.Translations.zh().Name} }

// StatusEntry points at the certificate's bit in a status list.
type StatusEntry struct {
	ID                   string `json:"id"`
	Type                 string `json:"type"`
	StatusPurpose        string `json:"statusPurpose"`
	StatusListIndex      string `json:"statusListIndex"`
	StatusListCredential string `json:"statusListCredential"`
}

// Holder returns the holder's name.
func (c *Credential) Holder() string {
	for _, id := range c.CredentialSubject.Identifier {
		if id.IdentityType == "name" && !id.Hashed {
			return id.IdentityHash
		}
	}
	return ""
}

// AchievementName returns the achievement's name in both languages.
func (c *Credential) AchievementName() Text {
	a := c.CredentialSubject.Achievement
	return Text{EN: a.Name, ZH: a.Translations.zh().Name}
}

// AchievementCriteria is how the achievement is earned (criteria.narrative), in both languages.
func (c *Credential) AchievementCriteria() Text {
	a := c.CredentialSubject.Achievement
	return Text{EN: a.Criteria.Narrative, ZH: a.Translations.zh().Criteria}
}

// Results returns the holder's scores with their names and pass marks.
func (c *Credential) Results() []Result {
	descs := map[string]ResultDescription{}
	for _, d := range c.CredentialSubject.Achievement.ResultDescription {
		descs[d.ID] = d
	}
	var out []Result
	for _, r := range c.CredentialSubject.Result {
		d := descs[r.ResultDescription]
		score, _ := strconv.ParseFloat(r.Value, 64)
		pass, _ := strconv.ParseFloat(d.RequiredValue, 64)
		out = append(out, Result{Name: Text{EN: d.Name, ZH: d.Translations.zh().Name}, Score: score, PassMark: pass})
	}
	return out
}

// Period returns validFrom and validUntil (zero when absent).
func (c *Credential) Period() (from, until time.Time, err error) {
	if from, err = time.Parse(time.RFC3339, c.ValidFrom); err != nil {
		return from, until, fmt.Errorf("validFrom: %w", err)
	}
	if c.ValidUntil != "" {
		if until, err = time.Parse(time.RFC3339, c.ValidUntil); err != nil {
			return from, until, fmt.Errorf("validUntil: %w", err)
		}
	}
	return from, until, nil
}

// Issuer is who issues certificates: the site.
type Issuer struct {
	URL  string // the site's public base URL, e.g. https://academy.example.com; the issuer's id
	Name string // e.g. "XSKY Academy": the credential's issuer name
	// NameZH is the name on Chinese pages and the PDF (e.g. "XSKY 学院"); Name when empty.
	NameZH string
}

// NameIn returns the issuer's name in lang ("zh" or "en").
func (is Issuer) NameIn(lang string) string {
	if lang == "zh" && is.NameZH != "" {
		return is.NameZH
	}
	return is.Name
}

func (is Issuer) profile() Profile {
	return Profile{ID: is.URL, Type: []string{"Profile"}, Name: is.Name, URL: is.URL}
}

// VerifyURL is the public verify page of a certificate.
func (is Issuer) VerifyURL(code string) string { return is.URL + "/v/" + Group(code) }

// StatusListURL is the URL of revocation status list n.
func (is Issuer) StatusListURL(n int) string {
	return is.URL + "/status/revocation/" + strconv.Itoa(n)
}

func zh(s string) *Translations {
	if s == "" {
		return nil
	}
	return &Translations{ZH: Localized{Name: s}}
}

func score(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// credential builds the OpenBadgeCredential of c for req.
func (is Issuer) credential(c *Certificate, req *Request) *Credential {
	p := req.Program
	achID := is.URL + "/certs/" + p.ID
	ach := Achievement{
		ID:              achID,
		Type:            []string{"Achievement"},
		AchievementType: "Certification",
		Name:            p.Name.EN,
		Description:     p.Description.EN,
		Criteria:        Criteria{Narrative: p.Criteria.EN},
		InLanguage:      "en",
		HumanCode:       p.ID,
		Translations: &Translations{ZH: Localized{
			Name: p.Name.ZH, Description: p.Description.ZH, Criteria: p.Criteria.ZH,
		}},
	}
	subj := AchievementSubject{
		ID:          c.SubjectID,
		Type:        []string{"AchievementSubject"},
		Identifier:  []IdentityObject{{Type: "IdentityObject", IdentityHash: c.HolderName, IdentityType: "name", Hashed: false}},
		Achievement: ach,
	}
	for i, r := range req.Results {
		id := fmt.Sprintf("%s#result-%d", achID, i+1)
		subj.Achievement.ResultDescription = append(subj.Achievement.ResultDescription, ResultDescription{
			ID: id, Type: []string{"ResultDescription"}, Name: r.Name.EN, ResultType: "Percent",
			RequiredValue: score(r.PassMark), Translations: zh(r.Name.ZH),
		})
		subj.Result = append(subj.Result, ResultEntry{Type: []string{"Result"}, ResultDescription: id, Value: score(r.Score)})
	}
	cred := &Credential{
		Context:           []string{ContextVC, ContextOB},
		ID:                c.ID,
		Type:              []string{"VerifiableCredential", "OpenBadgeCredential"},
		Issuer:            is.profile(),
		ValidFrom:         c.Issued.UTC().Format(time.RFC3339),
		Name:              p.Name.EN,
		Description:       fmt.Sprintf("%s, awarded to %s by %s.", p.Name.EN, c.HolderName, is.Name),
		CredentialSubject: subj,
		CredentialStatus: &StatusEntry{
			ID:                   fmt.Sprintf("%s#%d", is.StatusListURL(c.StatusList), c.StatusIndex),
			Type:                 "BitstringStatusListEntry",
			StatusPurpose:        "revocation",
			StatusListIndex:      strconv.Itoa(c.StatusIndex),
			StatusListCredential: is.StatusListURL(c.StatusList),
		},
		Translations: zh(p.Name.ZH),
	}
	if !c.Expires.IsZero() {
		cred.ValidUntil = c.Expires.UTC().Format(time.RFC3339)
	}
	for _, e := range req.Evidence {
		cred.Evidence = append(cred.Evidence, EvidenceEntry{ID: e.URL, Type: []string{"Evidence"}, Name: e.Name.EN, Translations: zh(e.Name.ZH)})
	}
	return cred
}

// decodePayload reads a compact JWS's payload as a Credential, unverified.
func decodePayload(token string) (*Credential, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var c Credential
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return &c, nil
}
