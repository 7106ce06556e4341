% rebase('base.tpl')
<h1>{{_("Error {code}", code=status)}}</h1>
<p>{{message}}</p>
<p><a href="/">{{_("Back to the start page")}}</a></p>
