package certificate

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"
)

// CheckOpenBadge checks a decoded credential against what Open Badges 3.0
// (VC Data Model 2.0) requires: required fields, their types, closed sets
// (AchievementSubject and IdentityObject allow no other properties) and the
// vocabularies used. It returns every problem found.
func CheckOpenBadge(m map[string]any) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	str := func(obj map[string]any, key, where string) string {
		s, ok := obj[key].(string)
		if !ok || s == "" {
			bad("%s.%s: want a non-empty string, found %v", where, key, obj[key])
		}
		return s
	}
	uri := func(obj map[string]any, key, where string) {
		s := str(obj, key, where)
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			bad("%s.%s: want a URI, found %q", where, key, s)
		}
	}
	types := func(obj map[string]any, where string, want ...string) {
		var ts []string
		switch v := obj["type"].(type) {
		case string:
			ts = []string{v}
		case []any:
			for _, x := range v {
				s, _ := x.(string)
				ts = append(ts, s)
			}
		}
		for _, w := range want {
			if !slices.Contains(ts, w) {
				bad("%s.type: want %s among %v", where, w, obj["type"])
			}
		}
	}
	object := func(v any, where string) map[string]any {
		o, ok := v.(map[string]any)
		if !ok {
			bad("%s: want an object, found %T", where, v)
			return map[string]any{}
		}
		return o
	}
	array := func(v any, where string) []any {
		if v == nil {
			return nil
		}
		a, ok := v.([]any)
		if !ok {
			bad("%s: want an array, found %T", where, v)
		}
		return a
	}
	closed := func(obj map[string]any, where string, allowed ...string) {
		for k := range obj {
			if !slices.Contains(allowed, k) {
				bad("%s: property %q is not allowed", where, k)
			}
		}
	}
	dateTime := func(obj map[string]any, key, where string) time.Time {
		s := str(obj, key, where)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			bad("%s.%s: want an RFC 3339 date-time with a zone, found %q", where, key, s)
		}
		return t
	}

	ctx := array(m["@context"], "@context")
	if len(ctx) < 2 || ctx[0] != ContextVC || ctx[1] != ContextOB {
		bad("@context: want [%s, %s, ...], found %v", ContextVC, ContextOB, m["@context"])
	}
	uri(m, "id", "credential")
	types(m, "credential", "VerifiableCredential", "OpenBadgeCredential")
	str(m, "name", "credential")
	if _, ok := m["vc"]; ok {
		bad("credential: a vc claim is not allowed (VC 2.0)")
	}
	is := object(m["issuer"], "issuer")
	uri(is, "id", "issuer")
	types(is, "issuer", "Profile")
	from := dateTime(m, "validFrom", "credential")
	if _, ok := m["validUntil"]; ok {
		if until := dateTime(m, "validUntil", "credential"); !until.After(from) {
			bad("validUntil is not after validFrom")
		}
	}

	cs := object(m["credentialSubject"], "credentialSubject")
	closed(cs, "credentialSubject", "id", "type", "activityEndDate", "activityStartDate", "creditsEarned",
		"achievement", "identifier", "image", "licenseNumber", "narrative", "result", "role", "source", "term")
	types(cs, "credentialSubject", "AchievementSubject")
	if cs["id"] == nil && cs["identifier"] == nil {
		bad("credentialSubject: id or identifier is required")
	}
	if cs["id"] != nil {
		uri(cs, "id", "credentialSubject")
	}
	identityTypes := []string{"name", "sourcedId", "systemId", "productId", "userName", "accountId", "emailAddress",
		"nationalIdentityNumber", "isbn", "issn", "lisSourcedId", "oneRosterSourcedId", "sisSourcedId", "ltiContextId",
		"ltiDeploymentId", "ltiToolId", "ltiPlatformId", "ltiUserId", "identifier"}
	for i, x := range array(cs["identifier"], "credentialSubject.identifier") {
		where := fmt.Sprintf("credentialSubject.identifier[%d]", i)
		o := object(x, where)
		closed(o, where, "type", "hashed", "identityHash", "identityType", "salt")
		if o["type"] != "IdentityObject" {
			bad("%s.type: want IdentityObject", where)
		}
		if _, ok := o["hashed"].(bool); !ok {
			bad("%s.hashed: want a boolean", where)
		}
		str(o, "identityHash", where)
		if t := str(o, "identityType", where); !slices.Contains(identityTypes, t) && !regexp.MustCompile(`^ext:[a-zA-Z0-9._-]+$`).MatchString(t) {
			bad("%s.identityType: %q is not in the vocabulary", where, t)
		}
	}

	a := object(cs["achievement"], "achievement")
	uri(a, "id", "achievement")
	types(a, "achievement", "Achievement")
	str(a, "name", "achievement")
	str(a, "description", "achievement")
	cr := object(a["criteria"], "achievement.criteria")
	if cr["id"] == nil && cr["narrative"] == nil {
		bad("achievement.criteria: id or narrative is required")
	}
	if t, ok := a["achievementType"]; ok && !slices.Contains([]any{"Achievement", "Badge", "Certificate", "CertificateOfCompletion", "Certification", "Course", "License", "MicroCredential"}, t) {
		bad("achievement.achievementType: %v is not one labd means to use", t)
	}
	resultTypes := []string{"GradePointAverage", "LetterGrade", "Percent", "PerformanceLevel", "PredictedScore", "RawScore",
		"Result", "RubricCriterion", "RubricCriterionLevel", "RubricScore", "ScaledScore", "Status"}
	descs := map[any]bool{}
	for i, x := range array(a["resultDescription"], "achievement.resultDescription") {
		where := fmt.Sprintf("achievement.resultDescription[%d]", i)
		o := object(x, where)
		uri(o, "id", where)
		types(o, where, "ResultDescription")
		str(o, "name", where)
		if t := str(o, "resultType", where); !slices.Contains(resultTypes, t) {
			bad("%s.resultType: %q is not in the vocabulary", where, t)
		}
		descs[o["id"]] = true
	}
	for i, x := range array(cs["result"], "credentialSubject.result") {
		where := fmt.Sprintf("credentialSubject.result[%d]", i)
		o := object(x, where)
		types(o, where, "Result")
		if !descs[o["resultDescription"]] {
			bad("%s.resultDescription: %v is not an achievement resultDescription", where, o["resultDescription"])
		}
		if _, ok := o["value"].(string); !ok {
			bad("%s.value: want a string", where)
		}
	}
	for i, x := range array(m["evidence"], "evidence") {
		where := fmt.Sprintf("evidence[%d]", i)
		o := object(x, where)
		types(o, where, "Evidence")
		uri(o, "id", where)
	}
	if st, ok := m["credentialStatus"]; ok {
		o := object(st, "credentialStatus")
		uri(o, "id", "credentialStatus")
		if o["type"] != "BitstringStatusListEntry" || o["statusPurpose"] != "revocation" {
			bad("credentialStatus: want a revocation BitstringStatusListEntry, found %v", o)
		}
		if !regexp.MustCompile(`^[0-9]+$`).MatchString(str(o, "statusListIndex", "credentialStatus")) {
			bad("credentialStatus.statusListIndex: want a decimal string")
		}
		uri(o, "statusListCredential", "credentialStatus")
	}
	return p
}
