// Card payment with Stripe.js: the card is tokenised in the browser (its number never reaches our server),
// the server confirms the PaymentIntent, and 3-D Secure runs through confirmCardPayment when asked.
(function () {
  // Choosing a voucher reloads the page with ?voucher=<id>, where the server shows the voucher/card split
  // before the buyer confirms; the payment then uses the voucher whose split is shown (data-voucher).
  const voucherForm = document.getElementById("voucher-form");
  const voucher = document.getElementById("voucher");
  if (voucherForm && voucher) voucher.addEventListener("change", () => voucherForm.submit());

  const box = document.getElementById("payment");
  if (!box || typeof Stripe === "undefined") return;
  const stripe = Stripe(box.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const form = document.getElementById("card-form");
  const button = document.getElementById("pay-button");
  const errors = document.getElementById("card-errors");
  const showError = (message) => { errors.textContent = message; errors.hidden = false; button.disabled = false; };

  async function post(body) {
    const response = await fetch(box.dataset.payUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf},
      body: JSON.stringify(body),
    });
    return response.json();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    errors.hidden = true;
    const body = {voucher: box.dataset.voucher || ""};
    try {
      if (box.dataset.cardFen !== "0") {  // nothing left for the card: no card to read
        const tokenResult = await stripe.createToken(card);
        if (tokenResult.error) { showError(tokenResult.error.message || "Card error"); return; }
        body.token = tokenResult.token.id;
      }
      const result = await post(body);
      if (result.status === "requires_action") {
        await stripe.confirmCardPayment(result.client_secret);
        window.location = box.dataset.returnUrl;
      } else if (result.status === "succeeded") {
        window.location = box.dataset.returnUrl;
      } else {
        showError(result.message || "Payment failed");
      }
    } catch (e) {
      showError(String(e));
    }
  });
})();
