package api

import (
	"net/http"
	"slices"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

type accessKind int

const (
	public        accessKind = iota // anyone, signed in or not
	authenticated                   // any signed-in user; handlers check ownership
	roles                           // only the listed roles
	ticketed                        // a single-use terminal ticket instead of a token
)

// Access says who may call a route.
type Access struct {
	kind  accessKind
	roles []auth.Role
}

// Public routes need no token.
var Public = Access{kind: public}

// Authenticated routes need any valid token; the handler checks ownership.
var Authenticated = Access{kind: authenticated}

// Ticketed routes are websockets opened with a ticket (browsers cannot send
// headers on them); the handler redeems it.
var Ticketed = Access{kind: ticketed}

// Roles limits a route to some roles.
func Roles(r ...auth.Role) Access { return Access{kind: roles, roles: r} }

func (a Access) allows(r auth.Role) bool {
	return a.kind != roles || slices.Contains(a.roles, r)
}

type route struct {
	Method  string
	Pattern string
	Access  Access
	Handle  func(w http.ResponseWriter, r *http.Request) error
}

// routes is every route of the API, with who may call it. Tests walk this
// table, so a route added here is tested for authorization.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", Public, s.healthz},
		{"GET", "/readyz", Public, s.readyz},
		{"GET", "/metrics", Roles(auth.Admin), s.serveMetrics},

		{"POST", "/api/login", Public, s.login},
		{"POST", "/api/logout", Authenticated, s.logout},
		{"GET", "/api/me", Authenticated, s.me},
		{"POST", "/api/invitations", Roles(auth.Lecturer, auth.Admin), s.invite},
		{"POST", "/api/invitations/accept", Public, s.acceptInvitation},
		{"GET", "/api/users", Roles(auth.Admin), s.listUsers},
		{"PATCH", "/api/users/{id}", Roles(auth.Admin), s.patchUser},
		{"POST", "/api/users/{id}/deactivate", Roles(auth.Admin), s.deactivateUser},
		{"POST", "/api/users/{id}/activate", Roles(auth.Admin), s.activateUser},
		{"DELETE", "/api/users/{id}", Roles(auth.Admin), s.deleteUser},

		{"GET", "/api/labs", Authenticated, s.listLabs},
		{"GET", "/api/labs/{lab}", Authenticated, s.getLab},

		{"POST", "/api/sessions", Authenticated, s.createSession},
		{"GET", "/api/sessions", Authenticated, s.listSessions},
		// A ready session's ports carry signed links to their own origins,
		// served by internal/proxy, never by this table (labd's Route).
		{"GET", "/api/sessions/{id}", Authenticated, s.getSession},
		{"DELETE", "/api/sessions/{id}", Authenticated, s.deleteSession},
		{"POST", "/api/sessions/{id}/steps/{step}/check", Authenticated, s.checkStep},
		{"POST", "/api/sessions/{id}/steps/{step}/enter", Authenticated, s.enterStep},
		{"POST", "/api/sessions/{id}/reset", Authenticated, s.resetSession},
		{"POST", "/api/sessions/{id}/extend", Authenticated, s.extendSession},
		{"POST", "/api/sessions/{id}/nodes/{node}/ticket", Authenticated, s.createTicket},
		{"GET", "/api/sessions/{id}/nodes/{node}/terminal", Ticketed, s.openTerminal},
		{"POST", "/api/sessions/{id}/nodes/{node}/terminal/restart", Authenticated, s.restartTerminal},
		{"POST", "/api/sessions/{id}/faults", Roles(auth.Lecturer, auth.Admin), s.injectFault},
		{"GET", "/api/sessions/{id}/recordings", Authenticated, s.listRecordings},
		{"GET", "/api/sessions/{id}/recordings/{file}", Authenticated, s.getRecording},

		// A class's lecturer or an admin; another lecturer gets 404.
		{"GET", "/api/classes", Roles(auth.Lecturer, auth.Admin), s.listClasses},
		{"POST", "/api/classes", Roles(auth.Lecturer, auth.Admin), s.createClass},
		{"GET", "/api/classes/{id}", Roles(auth.Lecturer, auth.Admin), s.getClass},
		{"POST", "/api/classes/{id}/roster", Roles(auth.Lecturer, auth.Admin), s.importRoster},
		{"GET", "/api/classes/{id}/roster", Roles(auth.Lecturer, auth.Admin), s.getRoster},
		{"GET", "/api/classes/{id}/progress", Roles(auth.Lecturer, auth.Admin), s.classProgress},
		{"POST", "/api/classes/{id}/certificates", Roles(auth.Lecturer, auth.Admin), s.issueClassCertificates},
		{"POST", "/api/classes/{id}/end", Roles(auth.Lecturer, auth.Admin), s.endClass},

		// Certificates: anyone verifies; admins revoke, renew and reissue.
		{"GET", "/api/certificates/{code}", Public, s.getCertificate},
		{"POST", "/api/certificates/{code}/revoke", Roles(auth.Admin), s.revokeCertificate},
		{"POST", "/api/certificates/{code}/renew", Roles(auth.Admin), s.renewCertificate},
		{"POST", "/api/certificates/{code}/reissue", Roles(auth.Admin), s.reissueCertificate},
		{"GET", "/api/me/certificates", Authenticated, s.myCertificates},
		{"GET", "/v/{code}", Public, s.verify},  // the page; {code}.jwt and {code}.pdf too
		{"GET", "/v/{$}", Public, s.verifyForm}, // the site's verify form without JavaScript
		{"GET", "/v/favicon.svg", Public, s.verifyIcon},
		{"GET", "/.well-known/jwks.json", Public, s.jwks},
		{"GET", "/.well-known/jwt-vc-issuer", Public, s.jwtVCIssuer},
		{"GET", "/status/revocation/{n}", Public, s.statusList},

		// Exams and certification programs: each caller sits and sees only their own.
		{"GET", "/api/exams/{exam}/attempt", Authenticated, s.startAttempt},
		{"POST", "/api/exams/{exam}/attempt/{attempt}", Authenticated, s.submitAttempt},
		{"GET", "/api/programs", Authenticated, s.listPrograms},
		{"GET", "/api/programs/{program}", Authenticated, s.getProgram},
		{"POST", "/api/programs/{program}/claim", Authenticated, s.claimProgram},
	}
}
