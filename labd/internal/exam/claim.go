package exam

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// IssueRequest is what a certificate needs to say about its holder.
type IssueRequest struct {
	User        string
	Program     string
	Title       lab.Text
	Description lab.Text
	Criteria    lab.Text // how it was earned, in words (the credential's criteria)
	Issued      time.Time
	ValidUntil  time.Time
	ExamScore   int // percent
	PassMark    int
	ExamAttempt string        // evidence: the passed attempt
	Labs        []LabEvidence // evidence: the session that passed each lab
	GrantsRole  string        // the role the certificate grants, or ""
}

// LabEvidence is the session in which a lab was passed.
type LabEvidence struct {
	Lab     string
	Session string
}

// States of a Holding.
const (
	HeldValid   = "valid"
	HeldExpired = "expired"
	HeldRevoked = "revoked"
)

// Holding is the certificate that stands for a user in a program: their
// newest one (a renewal is newer than what it renewed, a reissue newer than
// what was revoked).
type Holding struct {
	Code      string
	Status    string    // HeldValid, HeldExpired or HeldRevoked
	Reason    string    // why it was revoked
	RevokedAt time.Time // zero unless revoked
	Expires   time.Time // zero for no expiry
}

// Issuer issues certificates and knows who holds which (internal/certificate).
type Issuer interface {
	// Issue issues user's certificate of a program and returns its
	// verification code (the page is /v/<code>). While the user's newest
	// certificate of the program is revoked it fails with a *lab.Error
	// coded ERevoked, even when Standing said otherwise a moment before.
	Issue(ctx context.Context, req IssueRequest) (code string, err error)
	// Standing returns user's newest certificate of program, nil when they
	// never had one.
	Standing(ctx context.Context, user, program string) (*Holding, error)
}

// Claim is an issued (or already held) certificate.
type Claim struct {
	Program    string
	Code       string
	New        bool   // false when the user already held it
	GrantsRole string // the role the program grants
	// RoleGranted says the role was granted now. A failed grant does not undo
	// the certificate: it is logged, and an admin can grant the role.
	RoleGranted bool
}

// Claim issues user's certificate of program when every requirement is met:
// the labs passed, the exam passed, the required programs held. Otherwise
// it says what is missing. Claiming a certificate already held returns it.
// While the user's newest certificate of the program is revoked the claim
// is refused (ERevoked): only an admin issues again. After an expiry a
// claim issues a new certificate if the requirements still hold.
func (s *Service) Claim(ctx context.Context, user, program string) (*Claim, error) {
	s.claims.Lock()
	defer s.claims.Unlock()
	pr, err := s.Progress(ctx, user, program)
	if err != nil {
		return nil, err
	}
	p := pr.Program
	c := &Claim{Program: p.ID, GrantsRole: p.GrantsRole}
	switch {
	case pr.Held():
		c.Code = pr.Certificate.Code
		return c, nil
	case pr.Revoked():
		return nil, revokedError(p, pr.Certificate)
	case !pr.Complete():
		words := make([]string, len(pr.Missing))
		for i, m := range pr.Missing {
			words[i] = m.String()
		}
		return nil, &ClaimError{Code: ERequirements, Missing: pr.Missing, Message: "not yet: " + strings.Join(words, "; ")}
	}
	if s.Issuer == nil {
		return nil, &lab.Error{Code: EUnavailable, Message: "certificates cannot be issued yet on this server; your results are kept"}
	}
	now := s.now()
	req := IssueRequest{
		User: user, Program: p.ID, Title: p.Title, Description: p.Description, Criteria: s.criteria(p),
		Issued: now, ValidUntil: p.Validity.Until(now), PassMark: p.Exam.PassMark,
		ExamScore: pr.Exam.BestScore, ExamAttempt: pr.Exam.Attempt, GrantsRole: p.GrantsRole,
	}
	for _, l := range pr.Labs {
		req.Labs = append(req.Labs, LabEvidence{Lab: l.Lab.ID, Session: l.Session})
	}
	code, err := s.Issuer.Issue(ctx, req)
	if lab.ErrorCodeOf(err) == ERevoked { // revoked since Progress looked
		h, serr := s.standing(ctx, user, p.ID)
		if serr == nil && h != nil && h.Status == HeldRevoked {
			return nil, revokedError(p, h)
		}
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("issue the certificate of %s: %w", p.ID, err)
	}
	c.Code, c.New = code, true
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p.GrantsRole != "" && s.Roles != nil {
		if err := s.Roles.GrantRole(ctx, user, p.GrantsRole); err != nil {
			log.Error("certificate issued but its role not granted", "program", p.ID, "user", user, "role", p.GrantsRole, "err", err)
		} else {
			c.RoleGranted = true
		}
	}
	log.Info("certificate claimed", "program", p.ID, "user", user)
	return c, nil
}

// criteria says how a program's certificate is earned, in both languages,
// naming labs and required programs by their titles.
func (s *Service) criteria(p *Program) lab.Text {
	var zh, en []string
	if len(p.Labs) > 0 {
		var lz, le []string
		for _, id := range p.Labs {
			t := lab.Text{ZH: id, EN: id}
			if d, ok := s.Labs.Lab(id); ok {
				t = d.Title
			}
			lz, le = append(lz, "「"+t.ZH+"」"), append(le, "“"+t.EN+"”")
		}
		zh = append(zh, "完成实验"+strings.Join(lz, "、")+"（每个实验的全部步骤在同一次会话中检查通过）")
		en = append(en, "passed the labs "+strings.Join(le, ", ")+" (every step checked in one session)")
	}
	if len(p.Requires) > 0 {
		var rz, re []string
		for _, id := range p.Requires {
			t := lab.Text{ZH: id, EN: id}
			if rp, ok := s.Programs.Program(id); ok {
				t = rp.Title
			}
			rz, re = append(rz, "「"+t.ZH+"」"), append(re, "“"+t.EN+"”")
		}
		zh = append(zh, "持有证书"+strings.Join(rz, "、"))
		en = append(en, "held the certificates "+strings.Join(re, ", "))
	}
	zh = append(zh, fmt.Sprintf("通过 %d 道题的考试（及格线 %d%%）", p.Exam.Draw, p.Exam.PassMark))
	en = append(en, fmt.Sprintf("passed a %d-question exam (pass mark %d%%)", p.Exam.Draw, p.Exam.PassMark))
	return lab.Text{ZH: strings.Join(zh, "；") + "。", EN: "The holder " + strings.Join(en, "; ") + "."}
}
