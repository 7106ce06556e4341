% rebase('base.tpl')
<h1>My panel</h1>
<p>Logged in as <strong>{{user.username}}</strong> with the role <strong>{{user.role}}</strong>.</p>
<section class="card narrow" aria-labelledby="pw-title">
  <h2 id="pw-title">Change my password</h2>
  <form method="post" action="/account/password">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="current">Current password</label>
    <input id="current" name="current" type="password" required autocomplete="current-password">
    <label for="password">New password</label>
    <input id="password" name="password" type="password" required minlength="10" autocomplete="new-password">
    <label for="password2">New password again</label>
    <input id="password2" name="password2" type="password" required minlength="10" autocomplete="new-password">
    <button type="submit">Change password</button>
  </form>
</section>
