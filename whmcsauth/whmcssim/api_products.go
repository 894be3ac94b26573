package whmcssim

import "strings"

// echo returns a filter parameter as WHMCS echoes it: the sent string, or
// null when absent.
func echo(f form, k string) any {
	if !f.has(k) {
		return nil
	}
	return f.raw(k)
}

// getClientsProducts implements GetClientsProducts. Every product value is a
// string, totalresults is a string, and an empty page is "products":"".
func (s *Sim) getClientsProducts(f form) (int, obj) {
	clientID, serviceID, pid := f.id("clientid"), f.id("serviceid"), f.id("pid")
	domain, username := f.str("domain"), f.str("username2")
	var matches []*Service
	for _, svc := range s.sortedServicesLocked() {
		switch {
		// Like PHP's truthiness test, an empty or non-numeric id filters
		// nothing.
		case clientID > 0 && svc.ClientID != clientID,
			serviceID > 0 && svc.ID != serviceID,
			pid > 0 && svc.ProductID != pid,
			domain != "" && !strings.EqualFold(svc.Domain, domain),
			username != "" && svc.Username != username:
			continue
		}
		matches = append(matches, svc)
	}
	// WHMCS 8.7 returns every row when limitnum is absent, unlike its docs.
	start, limit := int(f.id("limitstart")), 0
	if f.str("limitnum") != "" {
		limit = int(f.id("limitnum"))
	}
	page := pageOf(matches, start, limit)
	var products any = ""
	if len(page) > 0 {
		rows := make([]obj, 0, len(page))
		for _, svc := range page {
			rows = append(rows, s.productRow(svc))
		}
		products = obj{{"product", rows}}
	}
	return ok(
		kv{"clientid", echo(f, "clientid")},
		kv{"serviceid", echo(f, "serviceid")},
		kv{"pid", echo(f, "pid")},
		kv{"domain", echo(f, "domain")},
		kv{"totalresults", str(int64(len(matches)))},
		kv{"startnumber", start},
		kv{"numreturned", len(page)},
		kv{"products", products},
	)
}

// productRow renders one service with the documented fields, all strings.
func (s *Sim) productRow(svc *Service) obj {
	password := esc(svc.Password)
	if s.opts.RawServicePasswords {
		password = svc.Password
	}
	return obj{
		{"id", str(svc.ID)}, {"qty", "1"}, {"clientid", str(svc.ClientID)},
		{"orderid", str(svc.ID)}, {"ordernumber", str(1000000000 + svc.ID*7919%999999999)},
		{"pid", str(svc.ProductID)}, {"regdate", svc.RegDate},
		{"name", esc(svc.Name)}, {"translated_name", esc(svc.Name)},
		{"groupname", "RC-CHAT"}, {"translated_groupname", "RC-CHAT"},
		{"domain", esc(svc.Domain)}, {"dedicatedip", ""},
		{"serverid", "0"}, {"servername", ""}, {"serverip", ""}, {"serverhostname", ""},
		{"suspensionreason", esc(svc.SuspensionReason)},
		{"firstpaymentamount", svc.RecurringAmount}, {"recurringamount", svc.RecurringAmount},
		{"paymentmethod", "banktransfer"}, {"paymentmethodname", "Bank Transfer"},
		{"billingcycle", svc.BillingCycle}, {"nextduedate", svc.NextDueDate},
		{"status", svc.Status}, {"username", esc(svc.Username)}, {"password", password},
		{"subscriptionid", ""}, {"promoid", "0"}, {"overideautosuspend", ""},
		{"overidesuspenduntil", "0000-00-00"}, {"ns1", ""}, {"ns2", ""}, {"assignedips", ""},
		{"notes", ""}, {"diskusage", "0"}, {"disklimit", "0"}, {"bwusage", "0"}, {"bwlimit", "0"},
		{"lastupdate", "0000-00-00 00:00:00"},
		{"customfields", obj{{"customfield", []any{}}}},
		{"configoptions", obj{{"configoption", []any{}}}},
	}
}

// serviceFor resolves serviceid (or the legacy accountid) for module calls.
func (s *Sim) serviceFor(f form) (*Service, string) {
	id := f.id("serviceid")
	if id == 0 {
		id = f.id("accountid")
	}
	if id == 0 {
		return nil, "Service ID is required"
	}
	svc, ok := s.services[id]
	if !ok {
		return nil, "Service ID not found"
	}
	return svc, ""
}

// moduleAction implements ModuleCreate/Suspend/Unsuspend/Terminate: the
// simulated module always succeeds and the service takes the given status.
func moduleAction(status string) handler {
	return func(s *Sim, f form) (int, obj) {
		svc, msg := s.serviceFor(f)
		if msg != "" {
			return fail(msg)
		}
		svc.Status = status
		switch status {
		case "Suspended":
			svc.SuspensionReason = f.str("suspendreason")
		case "Active":
			svc.SuspensionReason = ""
		}
		return ok()
	}
}

// updateClientProduct implements UpdateClientProduct: it edits fields
// without running a module.
func (s *Sim) updateClientProduct(f form) (int, obj) {
	svc, msg := s.serviceFor(f)
	if msg != "" {
		return fail(msg)
	}
	if f.str("status") != "" {
		svc.Status = f.str("status")
	}
	if f.has("servicepassword") {
		svc.Password = f.raw("servicepassword")
	}
	if pid := f.id("pid"); pid > 0 {
		svc.ProductID = pid
	}
	for field, dst := range map[string]*string{
		"nextduedate": &svc.NextDueDate, "domain": &svc.Domain, "serviceusername": &svc.Username,
	} {
		if f.has(field) {
			*dst = f.str(field)
		}
	}
	return ok(kv{"serviceid", str(svc.ID)})
}
