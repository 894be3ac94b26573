package whmcsauth

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
)

// Invoice is the part of GetInvoice the sidecar needs: who owns it, whether it
// is paid, and which services it bills.
type Invoice struct {
	// ID is the invoice id.
	ID int64
	// ClientID is the owning client (GetInvoice calls it userid).
	ClientID int64
	// Status is Unpaid, Paid, Cancelled, Refunded, Draft, Collections or
	// Payment Pending.
	Status string
	// Items are the invoice lines.
	Items []InvoiceItem
}

// InvoiceItem is one invoice line.
type InvoiceItem struct {
	// ID is the line id.
	ID int64
	// Type is Hosting, Addon, Domain…, Upgrade, AddFunds, LateFee, Item, ….
	Type string
	// RelID is the related record; for Type "Hosting" it is a service id.
	RelID int64
	// Description is the line text, entity-decoded.
	Description string
}

// invoiceItemRow is one element of items.item[].
type invoiceItemRow struct {
	ID          FlexInt    `json:"id"`
	Type        FlexString `json:"type"`
	RelID       FlexInt    `json:"relid"`
	Description FlexString `json:"description"`
}

// invoiceResponse is GetInvoice; transactions ("" when empty) is not read.
type invoiceResponse struct {
	InvoiceID FlexInt         `json:"invoiceid"`
	ID        FlexInt         `json:"id"`
	UserID    FlexInt         `json:"userid"`
	Status    FlexString      `json:"status"`
	Items     json.RawMessage `json:"items"`
}

// decodeInvoice reads GetInvoice.
func decodeInvoice(body []byte) (Invoice, error) {
	var resp invoiceResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return Invoice{}, err
	}
	rows, err := DecodeList[invoiceItemRow](resp.Items, "item")
	if err != nil {
		return Invoice{}, err
	}
	inv := Invoice{
		ID:       firstID(resp.InvoiceID, resp.ID),
		ClientID: int64(resp.UserID),
		Status:   resp.Status.text(),
	}
	if inv.ID <= 0 {
		return Invoice{}, errMissingID
	}
	for _, r := range rows {
		inv.Items = append(inv.Items, InvoiceItem{
			ID:          int64(r.ID),
			Type:        r.Type.text(),
			RelID:       int64(r.RelID),
			Description: r.Description.text(),
		})
	}
	return inv, nil
}

// GetInvoice returns one invoice; an unknown id is "Invoice ID Not Found"
// (IsNotFound).
func (c *Client) GetInvoice(ctx context.Context, invoiceID int64) (Invoice, error) {
	const action = "GetInvoice"
	if invoiceID <= 0 {
		return Invoice{}, &Error{Action: action, Kind: KindBusiness, Message: "Invoice ID Not Found"}
	}
	p := url.Values{}
	p.Set("invoiceid", strconv.FormatInt(invoiceID, 10))
	var inv Invoice
	err := c.call(ctx, action, p, func(body []byte) (err error) {
		inv, err = decodeInvoice(body)
		return err
	})
	if err != nil {
		return Invoice{}, err
	}
	return inv, nil
}
