package whmcssim

import (
	"fmt"
	"strconv"
)

// getInvoice implements GetInvoice, with money as strings, items as
// items.item[] and transactions "" when there are none.
func (s *Sim) getInvoice(f form) (int, obj) {
	inv, found := s.invoices[f.id("invoiceid")]
	if !found {
		return fail("Invoice ID Not Found")
	}
	var total float64
	items := make([]obj, 0, len(inv.Items))
	for _, it := range inv.Items {
		amount, _ := strconv.ParseFloat(it.Amount, 64)
		total += amount
		items = append(items, obj{
			{"id", it.ID}, {"type", it.Type}, {"relid", it.RelID},
			{"description", esc(it.Description)}, {"amount", it.Amount}, {"taxed", 0},
		})
	}
	money := fmt.Sprintf("%.2f", total)
	balance, datePaid := money, "0000-00-00 00:00:00"
	var transactions any = ""
	if inv.Status == "Paid" {
		balance, datePaid = "0.00", inv.DueDate+" 00:00:00"
		transactions = obj{{"transaction", []obj{{
			{"id", inv.ID}, {"userid", inv.ClientID}, {"currency", 0}, {"gateway", "banktransfer"},
			{"date", datePaid}, {"description", "Invoice Payment"}, {"amountin", money},
			{"fees", "0.00"}, {"amountout", "0.00"}, {"rate", "1.00000"},
			{"transid", fmt.Sprintf("SIM-%d", inv.ID)}, {"invoiceid", inv.ID}, {"refundid", 0},
		}}}}
	}
	var itemsField any = obj{{"item", items}}
	if len(items) == 0 {
		itemsField = ""
	}
	return ok(
		kv{"invoiceid", inv.ID}, kv{"invoicenum", ""}, kv{"userid", inv.ClientID},
		kv{"date", inv.Date}, kv{"duedate", inv.DueDate}, kv{"datepaid", datePaid},
		kv{"lastcaptureattempt", "0000-00-00 00:00:00"},
		kv{"subtotal", money}, kv{"credit", "0.00"}, kv{"tax", "0.00"}, kv{"tax2", "0.00"},
		kv{"total", money}, kv{"balance", balance}, kv{"taxrate", "0.00"}, kv{"taxrate2", "0.00"},
		kv{"status", inv.Status}, kv{"paymentmethod", "banktransfer"}, kv{"paymethodid", nil},
		kv{"notes", ""}, kv{"ccgateway", false},
		kv{"items", itemsField}, kv{"transactions", transactions},
	)
}
