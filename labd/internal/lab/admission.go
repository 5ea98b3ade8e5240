package lab

// Admission: whether one more environment may start now.

// Admission decides whether an environment of a lab may be made now. The
// service asks it for every new environment (a trainee's, or a queued one's
// turn) but not for reserved warm-pool environments, which a class has
// booked ahead. A resource-aware admission (memory, kernel AIO slots for
// Ceph labs) can wrap the counting one.
type Admission interface {
	Admit(def *Definition, u Usage) bool
}

// Usage is what the lab engine holds when Admit is asked.
type Usage struct {
	// Environments exist or are being made: live sessions, warm pools, and
	// ended sessions whose environment could not be removed yet.
	Environments int
	// Reserved is capacity held back for class reservations whose pool
	// environments are not made yet; it is not given to others.
	Reserved int
	// ByLab counts Environments by lab.
	ByLab map[string]int
	// Starting are the labs of the environments being provisioned now, one
	// entry each: what they will take of the host is not taken yet.
	Starting []*Definition
}

// CountAdmission admits while fewer than Max environments exist or are
// reserved: --max-sessions.
type CountAdmission struct{ Max int }

func (c CountAdmission) Admit(_ *Definition, u Usage) bool {
	return u.Environments+u.Reserved < c.Max
}
