% rebase('base.tpl')
<h1>{{_("Welcome to Callbox")}}</h1>
<p>{{_("Create the administrator account. There is no default password: the password you choose here is the only way in.")}}</p>
<form method="post" action="/setup" class="card narrow">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label for="code">{{_("Set-up code")}}</label>
  <input id="code" name="code" required autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="64" aria-describedby="code-help">
  <p class="help" id="code-help">{{_("The box prints its set-up code on its console when Callbox starts; on the box, the command callbox check shows it again. It proves that you are the owner, not just someone on the office network, and it works once.")}}</p>
  <label for="username">{{_("Username")}}</label>
  <input id="username" name="username" value="{{username}}" required autocomplete="username" autocapitalize="none" pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,31}" aria-describedby="username-help">
  <p class="help" id="username-help">{{_("Letters, digits, dot, dash and underscore; up to 32 characters.")}}</p>
  <label for="password">{{_("Password")}}</label>
  <input id="password" name="password" type="password" required minlength="{{min_length}}" autocomplete="new-password" aria-describedby="password-help">
  <p class="help" id="password-help">{{ngettext("At least {n} character.", "At least {n} characters.", min_length)}}</p>
  <label for="password2">{{_("Password again")}}</label>
  <input id="password2" name="password2" type="password" required minlength="{{min_length}}" autocomplete="new-password">
  <button type="submit">{{_("Create admin")}}</button>
</form>
