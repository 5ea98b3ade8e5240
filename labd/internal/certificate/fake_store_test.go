package certificate_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// fullStore is a hand-written fake beside the real SQLite store of the
// other tests: its status list 1 is full (every index taken) and a
// concurrent issue stores another subject id first, paths the real store
// reaches only after 131,072 certificates or under a race.
type fullStore struct {
	certificate.Store // unused methods panic
	inserted          []*certificate.Certificate
	subjectRaced      bool
}

func (s *fullStore) LiveCertificate(context.Context, string, string, time.Time) (*certificate.Certificate, error) {
	return nil, certificate.ErrNotFound
}

func (s *fullStore) SubjectID(context.Context, string) (string, error) {
	if s.subjectRaced {
		return "urn:uuid:00000000-0000-4000-8000-000000000001", nil
	}
	return "", certificate.ErrNotFound
}

func (s *fullStore) InsertCertificate(_ context.Context, c *certificate.Certificate, _ time.Time) (*certificate.Certificate, bool, error) {
	if !s.subjectRaced {
		s.subjectRaced = true // another issue stored the user's subject id meanwhile
		return nil, false, certificate.ErrSubjectChanged
	}
	if c.StatusList == 1 {
		return nil, false, certificate.ErrIndexTaken
	}
	s.inserted = append(s.inserted, c)
	return c, true, nil
}

func TestIssueMovesOnWhenAListIsFullAndAdoptsARacedSubject(t *testing.T) {
	keys, err := certificate.OpenKeys(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	store := &fullStore{}
	svc := certificate.NewService(store, keys, certificate.Issuer{URL: siteURL, Name: "XSKY Academy"})
	c, err := svc.Issue(context.Background(), request("alice", "Alice"))
	if err != nil {
		t.Fatal(err)
	}
	if c.StatusList != 2 || len(store.inserted) != 1 || c.SubjectID != "urn:uuid:00000000-0000-4000-8000-000000000001" {
		t.Fatalf("list %d, subject %s, %d inserted", c.StatusList, c.SubjectID, len(store.inserted))
	}
	ver, err := (&certificate.Verifier{Keys: keys}).Verify(c.JWT)
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := ver.Credential()
	if cred.CredentialStatus.StatusListCredential != siteURL+"/status/revocation/2" || cred.CredentialSubject.ID != c.SubjectID {
		t.Fatalf("the signed credential does not match the record: %+v %+v", cred.CredentialStatus, cred.CredentialSubject.ID)
	}
}
