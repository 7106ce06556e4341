% rebase('base.tpl')
<h1>{{_("Log in")}}</h1>
<form method="post" action="/login" class="card narrow">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="next" value="{{next}}">
  <label for="username">{{_("Username")}}</label>
  <input id="username" name="username" value="{{username}}" required autocomplete="username" autocapitalize="none" autofocus>
  <label for="password">{{_("Password")}}</label>
  <input id="password" name="password" type="password" required autocomplete="current-password">
  <button type="submit">{{_("Log in")}}</button>
</form>
