% rebase('base.tpl')
<h1>{{_("Phone {mac} bound to extension {extension}", mac=display_mac(phone.get('mac', '')), extension=phone.get('extension', ''))}}</h1>
<section class="card narrow secret-box" aria-labelledby="pw-title">
  <h2 id="pw-title">{{_("Provisioning password")}}</h2>
  <p>{{_("Enter the user and password below on the phone, once: on its own web page (auto provisioning), or at the login prompt the phone shows when it first asks the box for its settings. Plug and play only tells the phone where the box is; it never sends the password. They are shown only now.")}}</p>
  <dl>
    <dt>{{_("Provisioning URL")}}</dt><dd><code id="phone-url">{{url}}</code></dd>
    <dt>{{_("User")}}</dt><dd><code id="phone-user">{{phone.get('mac', '')}}</code></dd>
    <dt>{{_("Password")}}</dt><dd><code class="secret" id="phone-password">{{phone.get('password', '')}}</code></dd>
    <dt>{{_("URL with user and password")}}</dt><dd><code id="phone-full-url">{{full_url}}</code></dd>
  </dl>
  <p><a href="/phones">{{_("Back to phones")}}</a></p>
</section>
