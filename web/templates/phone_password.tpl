% rebase('base.tpl')
<h1>{{_("Phone {mac} bound to extension {extension}", mac=display_mac(phone.get('mac', '')), extension=phone.get('extension', ''))}}</h1>
<section class="card narrow secret-box" aria-labelledby="pw-title">
  <h2 id="pw-title">{{_("Provisioning password")}}</h2>
  <p>{{_("Restart the phone: with plug and play it fetches its settings by itself. A phone set up by hand needs the URL, user and password below; they are shown only now.")}}</p>
  <dl>
    <dt>{{_("Provisioning URL")}}</dt><dd><code id="phone-url">{{url}}</code></dd>
    <dt>{{_("User")}}</dt><dd><code id="phone-user">{{phone.get('mac', '')}}</code></dd>
    <dt>{{_("Password")}}</dt><dd><code class="secret" id="phone-password">{{phone.get('password', '')}}</code></dd>
    <dt>{{_("URL with user and password")}}</dt><dd><code id="phone-full-url">{{full_url}}</code></dd>
  </dl>
  <p><a href="/phones">{{_("Back to phones")}}</a></p>
</section>
