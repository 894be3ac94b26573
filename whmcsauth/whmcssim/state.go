package whmcssim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Client is a WHMCS client (tblclients) as the simulator keeps it. Text is
// stored as given and HTML-escaped on the way out, which is equivalent to
// WHMCS escaping on the way in; accessors therefore return readable values.
type Client struct {
	// ID is assigned by AddClient when zero.
	ID int64
	// FirstName is the contact's first name.
	FirstName string
	// LastName is the contact's last name.
	LastName string
	// CompanyName is the company, may be empty.
	CompanyName string
	// Email is the client e-mail.
	Email string
	// PhoneNumber is the phone.
	PhoneNumber string
	// Address1 is the first address line.
	Address1 string
	// City is the city.
	City string
	// State is the state or region.
	State string
	// Postcode is the postal code.
	Postcode string
	// Country is ISO 3166-1 alpha-2; "US" when empty.
	Country string
	// Status is Active (default), Inactive or Closed.
	Status string
	// Password is the client-area password; the simulator never returns it.
	Password string
	// OwnerUserID is the id of the owning login User (WHMCS 8 splits users
	// from clients); assigned when zero.
	OwnerUserID int64
	// DateCreated is YYYY-MM-DD; today when empty.
	DateCreated string
}

// Service is a product/service (tblhosting).
type Service struct {
	// ID is assigned by AddService when zero.
	ID int64
	// ClientID is the owner.
	ClientID int64
	// ProductID is the product (pid).
	ProductID int64
	// Name is the product name; "Product <pid>" when empty.
	Name string
	// Domain is the domain field.
	Domain string
	// Username is the service username; derived from the id when empty.
	Username string
	// Password is the plaintext service password.
	Password string
	// Status is Active (default), Pending, Suspended, Terminated, Cancelled,
	// Fraud or Completed.
	Status string
	// SuspensionReason is set by ModuleSuspend.
	SuspensionReason string
	// BillingCycle is Monthly when empty.
	BillingCycle string
	// RecurringAmount is a decimal string; "0.00" when empty.
	RecurringAmount string
	// NextDueDate is YYYY-MM-DD; a month from today when empty.
	NextDueDate string
	// RegDate is YYYY-MM-DD; today when empty.
	RegDate string
}

// Invoice is an invoice with its lines.
type Invoice struct {
	// ID is assigned by AddInvoice when zero.
	ID int64
	// ClientID is the owner (GetInvoice's userid).
	ClientID int64
	// Status is Unpaid (default), Paid, Cancelled, Refunded, Draft,
	// Collections or Payment Pending.
	Status string
	// Date is YYYY-MM-DD; today when empty.
	Date string
	// DueDate is YYYY-MM-DD; Date when empty.
	DueDate string
	// Items are the lines.
	Items []InvoiceItem
}

// InvoiceItem is an invoice line.
type InvoiceItem struct {
	// ID is assigned when zero.
	ID int64
	// Type is Hosting for a service line (then RelID is the service id).
	Type string
	// RelID is the related record id.
	RelID int64
	// Description is the line text.
	Description string
	// Amount is a decimal string; "0.00" when empty.
	Amount string
}

// Ticket is a support ticket. Message is the opening message; GetTicket lists
// it as reply 0 ahead of Replies.
type Ticket struct {
	// ID is the database id.
	ID int64
	// TID is the public six-digit ticket number.
	TID string
	// C is the client-area access key.
	C string
	// DeptID is the department.
	DeptID int64
	// ClientID is the owning client, 0 for a guest.
	ClientID int64
	// Name is the opener's name.
	Name string
	// Email is the opener's e-mail.
	Email string
	// Subject is the subject.
	Subject string
	// Message is the opening message.
	Message string
	// Status is Open, Answered, Customer-Reply, On Hold, In Progress or Closed.
	Status string
	// Priority is Low, Medium or High.
	Priority string
	// Date is when it was opened ("Y-m-d H:i:s").
	Date string
	// LastReply is when the last reply arrived.
	LastReply string
	// Replies follow the opening message, oldest first.
	Replies []TicketReply
}

// TicketReply is one reply after the opening message.
type TicketReply struct {
	// ClientID is the client author, 0 for admins and guests.
	ClientID int64
	// Name is the author's name (empty for admins).
	Name string
	// Email is the author's e-mail (empty for admins).
	Email string
	// Admin is the admin's username for admin replies.
	Admin string
	// Message is the text.
	Message string
	// Date is "Y-m-d H:i:s".
	Date string
}

const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02 15:04:05"
)

// today is the simulator's current date.
func (s *Sim) today() string { return s.now().Format(dateLayout) }

// AddClient stores a client, filling defaults, and returns its id. It does
// not validate anything, so tests can seed states the API would refuse
// (such as two e-mails differing only by case).
func (s *Sim) AddClient(c Client) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addClientLocked(c)
}

func (s *Sim) addClientLocked(c Client) int64 {
	if c.ID == 0 {
		c.ID = s.nextClient
	}
	s.nextClient = max(s.nextClient, c.ID+1)
	if c.OwnerUserID == 0 {
		c.OwnerUserID = s.nextUser
	}
	s.nextUser = max(s.nextUser, c.OwnerUserID+1)
	c.Status = firstNonEmpty(c.Status, "Active")
	c.Country = firstNonEmpty(c.Country, "US")
	c.DateCreated = firstNonEmpty(c.DateCreated, s.today())
	s.clients[c.ID] = &c
	return c.ID
}

// AddService stores a service, filling defaults, and returns its id.
func (s *Sim) AddService(svc Service) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc.ID == 0 {
		svc.ID = s.nextService
	}
	s.nextService = max(s.nextService, svc.ID+1)
	svc.Name = firstNonEmpty(svc.Name, fmt.Sprintf("Product %d", svc.ProductID))
	svc.Username = firstNonEmpty(svc.Username, fmt.Sprintf("user%d", svc.ID))
	svc.Status = firstNonEmpty(svc.Status, "Active")
	svc.BillingCycle = firstNonEmpty(svc.BillingCycle, "Monthly")
	svc.RecurringAmount = firstNonEmpty(svc.RecurringAmount, "0.00")
	svc.RegDate = firstNonEmpty(svc.RegDate, s.today())
	svc.NextDueDate = firstNonEmpty(svc.NextDueDate, s.now().AddDate(0, 1, 0).Format(dateLayout))
	s.services[svc.ID] = &svc
	return svc.ID
}

// AddInvoice stores an invoice, filling defaults, and returns its id.
func (s *Sim) AddInvoice(inv Invoice) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.ID == 0 {
		inv.ID = s.nextInvoice
	}
	s.nextInvoice = max(s.nextInvoice, inv.ID+1)
	inv.Status = firstNonEmpty(inv.Status, "Unpaid")
	inv.Date = firstNonEmpty(inv.Date, s.today())
	inv.DueDate = firstNonEmpty(inv.DueDate, inv.Date)
	inv.Items = slices.Clone(inv.Items)
	for i := range inv.Items {
		if inv.Items[i].ID == 0 {
			inv.Items[i].ID = s.nextItem
		}
		s.nextItem = max(s.nextItem, inv.Items[i].ID+1)
		inv.Items[i].Amount = firstNonEmpty(inv.Items[i].Amount, "0.00")
	}
	s.invoices[inv.ID] = &inv
	return inv.ID
}

// AddDepartment adds a support department and returns its id. Departments 1
// and 2 exist from the start.
func (s *Sim) AddDepartment(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := int64(len(s.departments) + 1)
	for s.departments[id] != "" {
		id++
	}
	s.departments[id] = name
	return id
}

// Client returns a copy of a client.
func (s *Sim) Client(id int64) (Client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return Client{}, false
	}
	return *c, true
}

// Clients returns copies of all clients ordered by id.
func (s *Sim) Clients() []Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Service returns a copy of a service.
func (s *Sim) Service(id int64) (Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.services[id]
	if !ok {
		return Service{}, false
	}
	return *svc, true
}

// Services returns copies of a client's services (all services when
// clientID is 0) ordered by id.
func (s *Sim) Services(clientID int64) []Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Service
	for _, svc := range s.sortedServicesLocked() {
		if clientID == 0 || svc.ClientID == clientID {
			out = append(out, *svc)
		}
	}
	return out
}

// Invoice returns a copy of an invoice.
func (s *Sim) Invoice(id int64) (Invoice, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invoices[id]
	if !ok {
		return Invoice{}, false
	}
	cp := *inv
	cp.Items = slices.Clone(inv.Items)
	return cp, true
}

// Ticket returns a copy of a ticket with its replies.
func (s *Sim) Ticket(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	return copyTicket(t), true
}

// Tickets returns copies of all tickets ordered by id.
func (s *Sim) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ticket, 0, len(s.tickets))
	for _, t := range s.tickets {
		out = append(out, copyTicket(t))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func copyTicket(t *Ticket) Ticket {
	cp := *t
	cp.Replies = slices.Clone(t.Replies)
	return cp
}

// SetClientStatus changes a client's status (Active, Inactive, Closed).
func (s *Sim) SetClientStatus(id int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return fmt.Errorf("whmcssim: no client %d", id)
	}
	c.Status = status
	return nil
}

// updateService applies fn to a service under the lock.
func (s *Sim) updateService(id int64, fn func(*Service)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.services[id]
	if !ok {
		return fmt.Errorf("whmcssim: no service %d", id)
	}
	fn(svc)
	return nil
}

// SetServiceStatus sets a service's status without running a module, like
// UpdateClientProduct.
func (s *Sim) SetServiceStatus(id int64, status string) error {
	return s.updateService(id, func(v *Service) { v.Status = status })
}

// SetServicePassword changes a service's plaintext password.
func (s *Sim) SetServicePassword(id int64, password string) error {
	return s.updateService(id, func(v *Service) { v.Password = password })
}

// SetProductID moves a service to another product, as a package change does.
func (s *Sim) SetProductID(id, productID int64) error {
	return s.updateService(id, func(v *Service) { v.ProductID = productID })
}

// SetNextDueDate sets a service's next due date (YYYY-MM-DD).
func (s *Sim) SetNextDueDate(id int64, date string) error {
	return s.updateService(id, func(v *Service) { v.NextDueDate = date })
}

// ModuleCreate provisions a service: status Active.
func (s *Sim) ModuleCreate(id int64) error { return s.SetServiceStatus(id, "Active") }

// ModuleSuspend suspends a service: status Suspended.
func (s *Sim) ModuleSuspend(id int64) error {
	return s.updateService(id, func(v *Service) { v.Status = "Suspended" })
}

// ModuleUnsuspend reactivates a service: status Active, reason cleared.
func (s *Sim) ModuleUnsuspend(id int64) error {
	return s.updateService(id, func(v *Service) { v.Status = "Active"; v.SuspensionReason = "" })
}

// ModuleTerminate terminates a service: status Terminated.
func (s *Sim) ModuleTerminate(id int64) error { return s.SetServiceStatus(id, "Terminated") }

// SetInvoiceStatus sets an invoice's status (for example Paid).
func (s *Sim) SetInvoiceStatus(id int64, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invoices[id]
	if !ok {
		return fmt.Errorf("whmcssim: no invoice %d", id)
	}
	inv.Status = status
	return nil
}

// sortedServicesLocked returns services ordered by id; s.mu must be held.
func (s *Sim) sortedServicesLocked() []*Service {
	out := make([]*Service, 0, len(s.services))
	for _, svc := range s.services {
		out = append(out, svc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// clientByEmailLocked finds a client by e-mail; s.mu must be held.
func (s *Sim) clientByEmailLocked(email string, exact bool) *Client {
	var found *Client
	for _, c := range s.clients {
		match := c.Email == email || (!exact && strings.EqualFold(c.Email, email))
		if match && (found == nil || c.ID < found.ID) {
			found = c
		}
	}
	return found
}

// firstNonEmpty returns the first non-empty value.
func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
